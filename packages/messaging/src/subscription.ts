import { sleep } from '@infra/core';
import type { AdapterSubscription, Delivery, MessageAdapter } from './adapter.js';
import { DeliveryProcessor, type MessageHandler, type Outcome, type ProcessorHost } from './delivery-processor.js';
import { MessagingError, errorMessage } from './errors.js';
import type { MessagingEvents } from './events.js';
import type { ResolvedSubscribeOptions } from './subscribe-options.js';

export type { MessageHandler, ReceivedMessage } from './delivery-processor.js';

/** What a subscription needs from its bus. */
export interface SubscriptionHost extends ProcessorHost {
  readonly adapter: MessageAdapter;
  detach(subscription: Subscription): void;
}

export interface SubscriptionStats {
  inFlight: number;
  handled: number;
  retried: number;
  deadLettered: number;
}

/** A subscription's lifecycle, one state at a time. */
type Lifecycle =
  | { state: 'starting' }
  | { state: 'running'; source: AdapterSubscription }
  | { state: 'stopping'; source: AdapterSubscription | undefined; closing: Promise<void> }
  | { state: 'closed'; closing: Promise<void> };

const permanent = new Set(['CLOSED', 'INVALID_OPTION', 'INVALID_ARGUMENT', 'MISSING_PEER']);

/**
 * One handler consuming one topic in one group. Pulls from the adapter only while fewer than
 * `maxInFlight` messages are unfinished; runs up to `concurrency` deliveries at once, one per key at
 * a time in arrival order, each through the processor's stages; acknowledges what finished in one
 * batch per event-loop turn; drains on close.
 */
export class Subscription {
  readonly topic: string;
  readonly group: string;
  readonly consumerName: string;
  private lifecycle: Lifecycle = { state: 'starting' };
  private readonly fetchController = new AbortController();
  private readonly handlerController = new AbortController();
  private readonly lanes = new Map<string, Delivery[]>();
  private readonly runnable: Delivery[] = [];
  /** Fetched and not acknowledged: handed back to the adapter on close. */
  private readonly outstanding = new Set<Delivery>();
  private ackBatch: Delivery[] = [];
  private ackFlush: Promise<void> | undefined;
  private readonly processor: DeliveryProcessor;
  private running = 0;
  private inFlight = 0;
  private wakeLoop: (() => void) | undefined;
  private idle: (() => void) | undefined;
  private problem: string | undefined;
  private readonly started: Promise<void>;
  private readonly loopDone: Promise<void>;
  private readonly counters = { handled: 0, retried: 0, deadLettered: 0 };

  constructor(
    topic: string,
    handler: MessageHandler,
    private readonly options: ResolvedSubscribeOptions,
    private readonly host: SubscriptionHost,
  ) {
    this.topic = topic;
    this.group = options.group;
    this.consumerName = options.consumerName;
    this.processor = new DeliveryProcessor(
      options.group,
      handler,
      options,
      host,
      this.handlerController.signal,
      this.counters,
      topic,
    );
    let resolveStarted!: () => void;
    let rejectStarted!: (error: unknown) => void;
    this.started = new Promise<void>((resolve, reject) => {
      resolveStarted = resolve;
      rejectStarted = reject;
    });
    // Nobody has to await ready(): a failure is also reported on the `error` event.
    this.started.catch(() => undefined);
    this.loopDone = this.run(resolveStarted, rejectStarted);
  }

  /** Resolves once the subscription consumes; rejects if it cannot start (closed, bad topic, missing peer). */
  ready(): Promise<void> {
    return this.started;
  }

  /** Why the subscription is not consuming (it keeps trying), if it is not. */
  get failure(): string | undefined {
    return this.problem;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  stats(): SubscriptionStats {
    return { inFlight: this.inFlight, ...this.counters };
  }

  /**
   * Stops fetching, lets in-flight messages finish within `timeoutMs`, acknowledges what finished
   * and leaves the rest to be redelivered. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    const current = this.lifecycle;
    if (current.state === 'stopping' || current.state === 'closed') return current.closing;
    const source = current.state === 'running' ? current.source : undefined;
    const closing = this.shutdown(source, options.timeoutMs ?? this.options.closeTimeoutMs);
    this.lifecycle = { state: 'stopping', source, closing };
    return closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async run(resolveStarted: () => void, rejectStarted: (error: unknown) => void): Promise<void> {
    const source = await this.connect(rejectStarted);
    if (!source) return;
    resolveStarted();
    for (let failures = 0; this.lifecycle.state === 'running';) {
      const room = this.options.maxInFlight - this.inFlight;
      if (room <= 0) {
        await new Promise<void>((resolve) => {
          this.wakeLoop = resolve;
        });
        continue;
      }
      try {
        const batch = await source.fetch(room, this.fetchController.signal);
        failures = 0;
        this.problem = undefined;
        for (const delivery of batch) this.dispatch(delivery);
        this.pump();
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run while fetch waits
        if (this.lifecycle.state !== 'running') break;
        this.problem = errorMessage(error);
        this.reportError('fetch', error);
        await this.pause(++failures);
      }
    }
  }

  /** Subscribes on the adapter, retrying until it works, the failure is permanent, or close() is called. */
  private async connect(rejectStarted: (error: unknown) => void): Promise<AdapterSubscription | undefined> {
    const spec = {
      topic: this.topic,
      group: this.group,
      consumer: this.consumerName,
      startFrom: this.options.startFrom,
      deadLetterTopic: this.options.deadLetterTopic,
    };
    for (let attempt = 1; this.lifecycle.state === 'starting'; attempt++) {
      try {
        const source = await this.host.adapter.subscribe(spec);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run while connecting
        if (this.lifecycle.state !== 'starting') {
          await source.close([]).catch((error: unknown) => {
            this.reportError('close', error);
          });
          break;
        }
        this.lifecycle = { state: 'running', source };
        this.problem = undefined;
        return source;
      } catch (error) {
        this.problem = errorMessage(error);
        this.reportError('subscribe', error);
        if (MessagingError.isInstance(error) && permanent.has(error.code)) {
          rejectStarted(error);
          this.lifecycle = { state: 'closed', closing: Promise.resolve() };
          this.host.detach(this);
          return undefined;
        }
        await this.pause(attempt);
      }
    }
    rejectStarted(
      new MessagingError('CLOSED', `Subscription to "${this.topic}" was closed before it started`, {
        topic: this.topic,
      }),
    );
    return undefined;
  }

  private dispatch(delivery: Delivery): void {
    this.outstanding.add(delivery);
    this.inFlight += 1;
    const key = delivery.message.key;
    if (key === null) {
      this.runnable.push(delivery);
      return;
    }
    const lane = this.lanes.get(key);
    if (lane) lane.push(delivery);
    else {
      this.lanes.set(key, []);
      this.runnable.push(delivery);
    }
  }

  private pump(): void {
    while (
      this.running < this.options.concurrency &&
      this.runnable.length > 0 &&
      !this.handlerController.signal.aborted
    ) {
      const delivery = this.runnable.shift() as Delivery;
      this.running += 1;
      const outcome = this.processor.process(delivery);
      // Finished synchronously: settled here, in this loop, rather than by recursing through pump().
      if (typeof outcome === 'string') this.settle(delivery, outcome);
      else {
        void outcome.then(
          (settled) => {
            this.settle(delivery, settled);
            this.pump();
          },
          (error: unknown) => {
            // The stages catch what they expect; anything else leaves the message for redelivery.
            this.reportError('fetch', error);
            this.settle(delivery, 'leave');
            this.pump();
          },
        );
      }
    }
  }

  private settle(delivery: Delivery, outcome: Outcome): void {
    if (outcome === 'ack') this.acknowledge(delivery);
    this.running -= 1;
    this.inFlight -= 1;
    const key = delivery.message.key;
    if (key !== null) {
      const lane = this.lanes.get(key);
      const next = lane?.shift();
      if (next) this.runnable.push(next);
      else this.lanes.delete(key);
    }
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
    if (this.inFlight === 0) this.idle?.();
  }

  /** The one layer of ack batching: the acks of one event-loop turn go to the adapter together. */
  private acknowledge(delivery: Delivery): void {
    if (this.lifecycle.state === 'closed' || this.lifecycle.state === 'starting') return;
    this.outstanding.delete(delivery);
    this.ackBatch.push(delivery);
    this.ackFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushAcks());
  }

  private async flushAcks(): Promise<void> {
    const batch = this.ackBatch;
    this.ackBatch = [];
    this.ackFlush = undefined;
    const source =
      this.lifecycle.state === 'running' || this.lifecycle.state === 'stopping' ? this.lifecycle.source : undefined;
    if (batch.length === 0 || !source) return;
    try {
      await source.ack(batch);
    } catch (error) {
      this.reportError('ack', error);
    }
  }

  private async shutdown(source: AdapterSubscription | undefined, timeoutMs: number): Promise<void> {
    // Lets run() see the new state before anything is awaited.
    await Promise.resolve();
    this.fetchController.abort();
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
    // Still connecting: the adapter may take its time; connect() closes what it gets once it does.
    if (!source) {
      this.lifecycle = { state: 'closed', closing: Promise.resolve() };
      this.host.detach(this);
      return;
    }
    await this.loopDone;
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      clearTimeout(timer);
    }
    this.handlerController.abort(
      new MessagingError('CLOSED', `Subscription to "${this.topic}" closed before the handler finished`, {
        topic: this.topic,
      }),
    );
    while (this.ackFlush) await this.ackFlush;
    const closing = this.lifecycle.state === 'stopping' ? this.lifecycle.closing : Promise.resolve();
    this.lifecycle = { state: 'closed', closing };
    try {
      await source.close([...this.outstanding]);
    } catch (error) {
      this.reportError('close', error);
    }
    this.host.detach(this);
  }

  private async pause(attempt: number): Promise<void> {
    await sleep(fetchRetryDelay(attempt), this.fetchController.signal).catch(() => undefined);
  }

  private reportError(operation: MessagingEvents['error']['operation'], error: unknown): void {
    this.host.events.emit('error', { operation, topic: this.topic, group: this.group, error });
  }
}

/** Longest wait between two fetch attempts of a subscription whose transport fails (ms). */
export const FETCH_RETRY_CAP_MS = 250;

/**
 * Backoff before fetch attempt `attempt + 1` after `attempt` failures in a row (ms): 25 ms doubling
 * to a cap of 250 ms, with jitter of up to half. Short, so that consuming resumes soon after the
 * transport is back, however long it was away.
 */
export function fetchRetryDelay(attempt: number, random: () => number = Math.random): number {
  const delay = Math.min(FETCH_RETRY_CAP_MS, 25 * 2 ** Math.min(Math.max(attempt, 1) - 1, 6));
  return delay * (0.5 + random() / 2);
}
