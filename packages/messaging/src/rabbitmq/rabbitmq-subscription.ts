import type { Channel, ConsumeMessage } from 'amqplib';
import type { AdapterSubscription, Delivery } from '../adapter.js';
import { errorMessage } from '../errors.js';
import { settleWithin, within, type RabbitMqConnection } from './rabbitmq-connection.js';
import { deliveryCount, wireMessage } from './rabbitmq-message.js';

export interface RabbitMqDelivery extends Delivery {
  /** What amqplib delivered: acknowledged with it, on the channel it came on. */
  readonly delivered: ConsumeMessage;
  readonly channel: Channel;
}

export interface SubscriptionHost {
  readonly connection: RabbitMqConnection;
  readonly prefetch: number;
  readonly commandTimeoutMs: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  /** Declares the topic's exchange, the group's queue and their binding on `channel`. */
  declare(channel: Channel): Promise<void>;
  /** Forgets a subscription that closed. */
  closed(subscription: RabbitMqSubscription): void;
}

type ConsumerState =
  | { kind: 'starting' }
  | { kind: 'consuming' }
  | { kind: 'down'; since: number; reason: string; attempt: number; timer: NodeJS.Timeout | undefined }
  | { kind: 'closed' };

/**
 * One consumer of a group's queue, on a channel of its own with `prefetch` as its bound. RabbitMQ
 * pushes deliveries; they wait in a buffer (never more than `prefetch`, as RabbitMQ sends no more
 * unacknowledged ones) until the bus pulls them with `fetch`. When the channel or the connection
 * drops, RabbitMQ puts every unacknowledged delivery back in the queue; the buffer is emptied and
 * the consumer is set up again on a new channel.
 */
export class RabbitMqSubscription implements AdapterSubscription<RabbitMqDelivery> {
  private state: ConsumerState = { kind: 'starting' };
  /** The channel deliveries come on; deliveries of any other were requeued by RabbitMQ. */
  private channel: Channel | undefined;
  private buffer: RabbitMqDelivery[] = [];
  /** Handed to the bus, not acknowledged yet. */
  private readonly handedOut = new Set<RabbitMqDelivery>();
  private readonly waiters = new Set<() => void>();
  private restarting = false;
  private readonly stopReopen: () => void;

  constructor(
    private readonly host: SubscriptionHost,
    readonly topic: string,
    readonly queue: string,
  ) {
    // A new connection: consume again on it (the old channel died with the old connection).
    this.stopReopen = host.connection.onReopen(() => void this.restart());
  }

  /** Sets up the consumer the first time; fails when it cannot. */
  async start(): Promise<void> {
    try {
      await this.consume();
    } catch (error) {
      if (this.state.kind === 'down') clearTimeout(this.state.timer);
      this.stopReopen();
      this.state = { kind: 'closed' };
      throw error;
    }
  }

  /** Delivered, not acknowledged yet. */
  get pending(): number {
    return this.handedOut.size;
  }

  /** Received from RabbitMQ, not handed to the bus yet. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** One line when the consumer is not consuming. */
  problem(): string | undefined {
    if (this.state.kind !== 'down') return undefined;
    const seconds = Math.round((Date.now() - this.state.since) / 1000);
    return `consumer of queue "${this.queue}" not consuming for ${seconds} s: ${this.state.reason}`;
  }

  async fetch(max: number, signal: AbortSignal): Promise<RabbitMqDelivery[]> {
    if (this.buffer.length === 0 && this.state.kind !== 'closed' && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    if (this.state.kind === 'closed') return [];
    const taken = this.buffer.length <= max ? this.buffer : this.buffer.slice(0, max);
    this.buffer = taken === this.buffer ? [] : this.buffer.slice(max);
    for (const delivery of taken) this.handedOut.add(delivery);
    return taken;
  }

  /**
   * Acknowledges on the channel each delivery came on. One whose channel is gone was put back in
   * the queue by RabbitMQ and will come again: at least once, never lost.
   */
  ack(deliveries: readonly RabbitMqDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      this.handedOut.delete(delivery);
      if (delivery.channel !== this.channel) continue;
      try {
        delivery.channel.ack(delivery.delivered);
      } catch {
        // The channel closed in between: the message is back in the queue.
      }
    }
    return Promise.resolve();
  }

  /**
   * Closes the channel: RabbitMQ returns the unfinished and the buffered deliveries (everything not
   * acknowledged on it) to the queue as the consumer goes away, in queue order. Not `basic.cancel`
   * then `basic.nack`: between the two, a single-active-consumer queue already hands newer messages to
   * the next consumer, and the returned ones would come after them. Acks sent before stay sent.
   */
  async close(): Promise<void> {
    if (this.state.kind === 'closed') return;
    this.stop();
    const channel = this.channel;
    this.channel = undefined;
    if (channel) await settleWithin(channel.close(), this.host.commandTimeoutMs);
    this.buffer = [];
    this.handedOut.clear();
  }

  /** Closes at once (the adapter is closing): RabbitMQ returns what was not acknowledged. */
  async abort(timeoutMs: number): Promise<void> {
    if (this.state.kind === 'closed') return;
    this.stop();
    const channel = this.channel;
    this.channel = undefined;
    this.buffer = [];
    if (channel) await settleWithin(channel.close(), timeoutMs);
  }

  private stop(): void {
    if (this.state.kind === 'down') clearTimeout(this.state.timer);
    this.state = { kind: 'closed' };
    this.stopReopen();
    for (const wake of [...this.waiters]) wake();
    this.host.closed(this);
  }

  private async consume(): Promise<void> {
    const { model } = await this.host.connection.open();
    const channel = await within(model.createChannel(), this.host.commandTimeoutMs);
    this.channel = channel;
    // Without an `error` listener a channel error would be thrown as an unhandled event.
    channel.on('error', (error: Error) => {
      this.host.connection.report(error);
    });
    channel.on('close', () => {
      this.lost(channel, 'channel closed');
    });
    try {
      await within(channel.prefetch(this.host.prefetch), this.host.commandTimeoutMs);
      await this.host.declare(channel);
      await within(
        channel.consume(this.queue, (message) => {
          this.receive(channel, message);
        }),
        this.host.commandTimeoutMs,
      );
      if (this.state.kind === 'closed' || this.channel !== channel) {
        await settleWithin(channel.close(), this.host.commandTimeoutMs);
        return;
      }
      this.state = { kind: 'consuming' };
    } catch (error) {
      if (this.channel === channel) this.channel = undefined;
      await settleWithin(channel.close(), this.host.commandTimeoutMs);
      throw error;
    }
  }

  private receive(channel: Channel, message: ConsumeMessage | null): void {
    if (channel !== this.channel) return;
    if (message === null) {
      // RabbitMQ cancelled the consumer (its queue was deleted): start over, declaring the queue again.
      this.host.connection.report(new Error(`RabbitMQ cancelled the consumer of queue "${this.queue}"`));
      void channel.close().catch(() => undefined);
      return;
    }
    this.buffer.push({
      message: wireMessage(this.topic, message),
      deliveryCount: deliveryCount(message),
      delivered: message,
      channel,
    });
    if (this.waiters.size > 0) for (const wake of [...this.waiters]) wake();
  }

  /** The channel died: what it delivered and nobody acknowledged is back in the queue. */
  private lost(channel: Channel, reason: string): void {
    if (channel !== this.channel) return;
    this.channel = undefined;
    this.buffer = [];
    if (this.state.kind === 'closed') return;
    this.state = { kind: 'down', since: Date.now(), reason, attempt: 0, timer: undefined };
    // With the connection gone too, its reopening restarts the consumer; else a new channel is tried now.
    if (this.host.connection.current()) this.retryLater();
  }

  private retryLater(): void {
    const state = this.state;
    if (state.kind !== 'down') return;
    const delayMs = Math.min(this.host.maxReconnectDelayMs, this.host.reconnectDelayMs * 2 ** state.attempt);
    state.attempt += 1;
    clearTimeout(state.timer);
    state.timer = setTimeout(() => void this.restart(), delayMs);
    state.timer.unref();
  }

  private async restart(): Promise<void> {
    const state = this.state;
    if (state.kind !== 'down' || this.restarting) return;
    clearTimeout(state.timer);
    this.restarting = true;
    try {
      await this.consume();
    } catch (error) {
      this.host.connection.report(error);
      state.reason = errorMessage(error);
      if (this.host.connection.current()) this.retryLater();
    } finally {
      this.restarting = false;
    }
  }
}
