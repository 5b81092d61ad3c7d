import { sleep } from '@infra/core';
import type { AdapterSubscription, Delivery } from './adapter.js';
import { DeliveryProcessor, type MessageHandler, type ProcessorHost } from './delivery-processor.js';
import { MessagingError, errorMessage } from './errors.js';
import type { MessagingEvents } from './events.js';
import type { ResolvedSubscribeOptions } from './subscribe-options.js';

export type { MessageHandler, ReceivedMessage } from './delivery-processor.js';

/** What a subscription needs from its bus. */
export interface SubscriptionHost extends ProcessorHost {
  detach(subscription: Subscription): void;
}

export interface SubscriptionStats {
  inFlight: number;
  handled: number;
  retried: number;
  deadLettered: number;
}

const permanent = new Set(['CLOSED', 'INVALID_OPTION', 'INVALID_ARGUMENT', 'MISSING_PEER']);

/**
 * One handler consuming one topic in one group. Pulls from the adapter only while fewer than
 * `maxInFlight` messages are unfinished; runs up to `concurrency` handlers, one per key at a time
 * in arrival order; retries, dead-letters, acknowledges; drains on close.
 */
export class Subscription {
  readonly topic: string;
  readonly group: string;
  readonly consumerName: string;
  private source: AdapterSubscription | undefined;
  private readonly fetchController = new AbortController();
  private readonly handlerController = new AbortController();
  private readonly lanes = new Map<string, Delivery[]>();
  private readonly runnable: Delivery[] = [];
  private readonly outstanding = new Set<Delivery>();
  private ackBatch: Delivery[] = [];
  private ackFlush: Promise<void> | undefined;
  private readonly processor: DeliveryProcessor;
  private running = 0;
  /** `handlerController.signal.aborted`, without a getter call per message. */
  private handlersAborted = false;
  private inFlight = 0;
  private stopping = false;
  private sourceClosed = false;
  private wakeLoop: (() => void) | undefined;
  private idle: (() => void) | undefined;
  private problem: string | undefined;
  private closing: Promise<void> | undefined;
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
    this.processor = new DeliveryProcessor(
      options.group,
      handler,
      options,
      host,
      this.handlerController.signal,
      (delivery) => {
        this.acknowledge(delivery);
      },
      this.counters,
    );
    this.group = options.group;
    this.consumerName = options.consumerName;
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
    this.closing ??= this.shutdown(options.timeoutMs ?? this.options.closeTimeoutMs);
    return this.closing;
  }

  private async run(resolveStarted: () => void, rejectStarted: (error: unknown) => void): Promise<void> {
    const spec = {
      topic: this.topic,
      group: this.group,
      consumer: this.consumerName,
      startFrom: this.options.startFrom,
    };
    for (let attempt = 1; !this.stopping && !this.source; attempt++) {
      try {
        const source = await this.host.adapter.subscribe(spec);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run while the adapter connects
        if (this.stopping) {
          await source.close([]).catch((error: unknown) => {
            this.reportError('close', error);
          });
          break;
        }
        this.source = source;
        this.problem = undefined;
      } catch (error) {
        this.problem = errorMessage(error);
        this.reportError('subscribe', error);
        if (MessagingError.isInstance(error) && permanent.has(error.code)) {
          rejectStarted(error);
          this.stopping = true;
          this.host.detach(this);
          return;
        }
        await this.pause(attempt);
      }
    }
    if (!this.source) {
      rejectStarted(
        new MessagingError('CLOSED', `Subscription to "${this.topic}" was closed before it started`, {
          topic: this.topic,
        }),
      );
      return;
    }
    resolveStarted();
    const source = this.source;
    for (let failures = 0; !this.stopping;) {
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
        if (this.stopping) break;
        this.problem = errorMessage(error);
        this.reportError('fetch', error);
        await this.pause(++failures);
      }
    }
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
    while (this.running < this.options.concurrency && this.runnable.length > 0 && !this.handlersAborted) {
      const delivery = this.runnable.shift() as Delivery;
      this.running += 1;
      const pending = this.processor.process(delivery);
      // Finished synchronously: account for it here rather than recurse through pump().
      if (!pending) this.settle(delivery);
      else {
        void pending.finally(() => {
          this.settle(delivery);
          this.pump();
        });
      }
    }
  }

  private settle(delivery: Delivery): void {
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

  /**
   * Queues an acknowledgement without holding up the lane; the acks of one event-loop turn go to
   * the adapter together. close() waits for them.
   */
  private acknowledge(delivery: Delivery): void {
    if (this.sourceClosed || !this.source) return;
    this.outstanding.delete(delivery);
    this.ackBatch.push(delivery);
    this.ackFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushAcks());
  }

  private async flushAcks(): Promise<void> {
    const batch = this.ackBatch;
    this.ackBatch = [];
    this.ackFlush = undefined;
    if (batch.length === 0 || !this.source) return;
    try {
      await this.source.ack(batch);
    } catch (error) {
      this.reportError('ack', error);
    }
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.fetchController.abort();
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
    // Still connecting: the adapter may take its time; run() closes what it gets once it does.
    if (!this.source) {
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
    this.handlersAborted = true;
    this.handlerController.abort(
      new MessagingError('CLOSED', `Subscription to "${this.topic}" closed before the handler finished`, {
        topic: this.topic,
      }),
    );
    while (this.ackFlush) await this.ackFlush;
    this.sourceClosed = true;
    try {
      await this.source.close([...this.outstanding]);
    } catch (error) {
      this.reportError('close', error);
    }
    this.host.detach(this);
  }

  /** Backoff between failed fetches: short, so that consuming resumes soon after the transport is back. */
  private async pause(attempt: number): Promise<void> {
    const delay = Math.min(250, 25 * 2 ** Math.min(attempt - 1, 6));
    await sleep(delay * (0.5 + Math.random() / 2), this.fetchController.signal).catch(() => undefined);
  }

  private reportError(operation: MessagingEvents['error']['operation'], error: unknown): void {
    this.host.events.emit('error', { operation, topic: this.topic, group: this.group, error });
  }
}
