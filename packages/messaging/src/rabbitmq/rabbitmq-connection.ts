import type { ChannelModel } from 'amqplib';
import { MessagingError, errorMessage } from '../errors.js';
import { within as withinDeadline } from '../within.js';

/** Opens a new connection (the adapter's `amqplib.connect` with its URL and heartbeat). */
export type Connect = () => Promise<ChannelModel>;

export interface ConnectionSettings {
  connectTimeoutMs: number;
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
}

type State =
  | { kind: 'open'; model: ChannelModel; generation: number }
  | { kind: 'down'; since: number; error: Error; attempt: number; timer: NodeJS.Timeout | undefined }
  | { kind: 'closed' };

/**
 * The adapter's one AMQP connection, kept open: when it drops, it is opened again after a delay
 * that doubles up to `maxReconnectDelayMs`, and every listener of {@link onReopen} restores its
 * channels on the new one. Without `connect` (an injected connection) nothing is reopened.
 */
export class RabbitMqConnection {
  private state: State;
  private generation = 0;
  private readonly reopened = new Set<(model: ChannelModel, generation: number) => void>();
  private readonly errors = new Set<(error: Error) => void>();
  private readonly waiting = new Set<() => void>();
  /** Why RabbitMQ stopped reading from this connection (a memory or disk alarm), while it does. */
  private blocked: { reason: string; since: number } | undefined;
  /** Removes the adapter's listeners from the current connection. */
  private unwatch: (() => void) | undefined;

  private constructor(
    model: ChannelModel,
    private readonly connect: Connect | undefined,
    private readonly settings: ConnectionSettings,
  ) {
    this.state = { kind: 'open', model, generation: 0 };
    this.watch(model, 0);
  }

  /** Opens the first connection (bounded by `connectTimeoutMs`), or wraps an injected one. */
  static async open(
    connect: Connect | undefined,
    injected: ChannelModel | undefined,
    settings: ConnectionSettings,
  ): Promise<RabbitMqConnection> {
    const model = injected ?? (await connectWithin(connect as Connect, settings.connectTimeoutMs));
    return new RabbitMqConnection(model, connect, settings);
  }

  /** Server version from the handshake (`3.10.8`), when the server sent one. */
  serverVersion(): string | undefined {
    if (this.state.kind !== 'open') return undefined;
    const version = this.state.model.connection.serverProperties.version;
    return typeof version === 'string' ? version : undefined;
  }

  /** The open connection and its generation (how many times it was reopened), or `undefined` when down. */
  current(): { model: ChannelModel; generation: number } | undefined {
    return this.state.kind === 'open' ? this.state : undefined;
  }

  /** One line when the connection is down, for health and `problems()`. */
  problem(): string | undefined {
    if (this.state.kind === 'open' && this.blocked) {
      const seconds = Math.round((Date.now() - this.blocked.since) / 1000);
      return `RabbitMQ has blocked publishing for ${seconds} s: ${this.blocked.reason}`;
    }
    if (this.state.kind !== 'down') return undefined;
    const seconds = Math.round((Date.now() - this.state.since) / 1000);
    const reopening = this.connect ? `, reconnecting (attempt ${this.state.attempt})` : ' (an injected connection)';
    return `RabbitMQ connection down for ${seconds} s${reopening}: ${this.state.error.message}`;
  }

  /**
   * The open connection; while reconnecting, waits for it up to `connectTimeoutMs`, then fails
   * with a retryable `ADAPTER_UNAVAILABLE`.
   */
  async open(): Promise<{ model: ChannelModel; generation: number }> {
    const now = this.current();
    if (now) return now;
    if (this.state.kind === 'down' && this.connect) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.settings.connectTimeoutMs);
        timer.unref();
        const waiting = this.waiting;
        waiting.add(done);
        function done(): void {
          clearTimeout(timer);
          waiting.delete(done);
          resolve();
        }
      });
      const later = this.current();
      if (later) return later;
    }
    if (this.state.kind === 'closed') throw new MessagingError('CLOSED', 'The RabbitMQ adapter is closed');
    throw new MessagingError('ADAPTER_UNAVAILABLE', this.problem() ?? 'RabbitMQ connection is down', {
      isRetryable: true,
    });
  }

  /** Calls `listener` with the new connection after each reconnection. */
  onReopen(listener: (model: ChannelModel, generation: number) => void): () => void {
    this.reopened.add(listener);
    return () => this.reopened.delete(listener);
  }

  /** Calls `listener` with each failure: the connection dropping, an attempt to reopen it failing. */
  onError(listener: (error: Error) => void): () => void {
    this.errors.add(listener);
    return () => this.errors.delete(listener);
  }

  /** Reports a failure of something built on this connection (a channel) to the error listeners. */
  report(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(errorMessage(error));
    for (const listener of this.errors) listener(failure);
  }

  /** Stops reconnecting and, when `owned`, closes the connection (bounded by `timeoutMs`). */
  async close(owned: boolean, timeoutMs: number): Promise<void> {
    const state = this.state;
    this.state = { kind: 'closed' };
    this.wake();
    if (state.kind === 'down') clearTimeout(state.timer);
    if (state.kind === 'open' && owned) await settleWithin(state.model.close(), timeoutMs);
    // An injected connection goes on without the adapter: its listeners go too.
    else this.unwatch?.();
  }

  private watch(model: ChannelModel, generation: number): void {
    // amqplib emits `error` (then `close`) when the server or the socket ends the connection.
    const onError = (error: Error): void => {
      this.report(error);
    };
    const onClose = (error?: Error): void => {
      if (this.state.kind !== 'open' || this.state.generation !== generation) return;
      const reason = error ?? new Error('RabbitMQ closed the connection');
      this.state = { kind: 'down', since: Date.now(), error: reason, attempt: 0, timer: undefined };
      if (!error) this.report(reason);
      this.scheduleReconnect();
    };
    // A resource alarm: publishes wait (and time out) until RabbitMQ unblocks the connection.
    const onBlocked = (reason: string): void => {
      this.blocked = { reason, since: Date.now() };
    };
    const onUnblocked = (): void => {
      this.blocked = undefined;
    };
    this.blocked = undefined;
    model.on('error', onError);
    model.on('close', onClose);
    model.on('blocked', onBlocked);
    model.on('unblocked', onUnblocked);
    this.unwatch = () => {
      model.off('error', onError);
      model.off('close', onClose);
      model.off('blocked', onBlocked);
      model.off('unblocked', onUnblocked);
    };
  }

  private scheduleReconnect(): void {
    const state = this.state;
    if (state.kind !== 'down' || !this.connect) return;
    const delayMs = Math.min(this.settings.maxReconnectDelayMs, this.settings.reconnectDelayMs * 2 ** state.attempt);
    state.attempt += 1;
    state.timer = setTimeout(() => void this.reconnect(), delayMs);
    state.timer.unref();
  }

  private async reconnect(): Promise<void> {
    let model: ChannelModel;
    try {
      model = await connectWithin(this.connect as Connect, this.settings.connectTimeoutMs);
    } catch (error) {
      if (this.state.kind !== 'down') return;
      this.state.error = error as Error;
      this.report(error);
      this.scheduleReconnect();
      return;
    }
    if (this.state.kind !== 'down') {
      // Closed meanwhile: the new connection is nobody's.
      await model.close().catch(() => undefined);
      return;
    }
    const generation = ++this.generation;
    this.state = { kind: 'open', model, generation };
    this.watch(model, generation);
    this.wake();
    for (const listener of this.reopened) listener(model, generation);
  }

  private wake(): void {
    for (const waiter of this.waiting) waiter();
    this.waiting.clear();
  }
}

/** Opens a connection within `timeoutMs` (a stalled handshake counts); a late one is closed. */
async function connectWithin(connect: Connect, timeoutMs: number): Promise<ChannelModel> {
  const attempt = connect();
  try {
    return await within(attempt, timeoutMs);
  } catch (error) {
    void attempt.then((late) => late.close()).catch(() => undefined);
    throw new MessagingError('ADAPTER_UNAVAILABLE', `RabbitMQ is not reachable: ${errorMessage(error)}`, {
      cause: error,
      isRetryable: true,
    });
  }
}

/** `promise`, or a rejection once `timeoutMs` passed without an answer. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what = 'RabbitMQ'): Promise<T> {
  return withinDeadline(promise, timeoutMs, () => new Error(`${what} did not answer within ${timeoutMs} ms`));
}

/** Waits for `promise` to settle, at most `timeoutMs`; its outcome is ignored. */
export async function settleWithin(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  await within(promise, timeoutMs).catch(() => undefined);
}
