import { ResilienceError, abortError, check } from './errors.js';
import { InFlight } from './in-flight.js';
import { contextFor, type ExecuteOptions, type Policy, type PolicyContext, type PolicyFn } from './policy.js';
import { TokenBucket } from './token-bucket.js';
import { WaitQueue } from './wait-queue.js';

export interface ThrottlerOptions {
  /** Calls started per interval. */
  limit: number;
  /** Interval length in ms. */
  intervalMs: number;
  /** Calls allowed to wait; more are rejected with `THROTTLER_QUEUE_FULL`. @default Infinity */
  maxQueue?: number;
  /** Calls that may start back to back before the rate applies. @default limit */
  burst?: number;
}

/** Options of {@link Throttler.close}. */
export interface ThrottlerCloseOptions {
  /** Longest wait for started calls to finish (ms). @default 10_000 */
  timeoutMs?: number;
}

/**
 * Spaces calls out to a rate: instead of rejecting the excess like a rate limiter, it queues it
 * (FIFO) and starts each call when a token is free. One timer at most, cleared when the queue empties.
 */
export class Throttler implements Policy {
  private readonly bucket: TokenBucket;
  private readonly maxQueue: number;
  private readonly queue = new WaitQueue(() => {
    if (this.queue.length === 0) this.stopTimer();
  });
  private readonly inFlight = new InFlight();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ThrottlerOptions) {
    const limit = check.integer('limit', options.limit);
    const intervalMs = check.positive('intervalMs', options.intervalMs);
    this.maxQueue = options.maxQueue === undefined ? Infinity : check.integer('maxQueue', options.maxQueue, 0);
    this.bucket = new TokenBucket({
      capacity: check.integer('burst', options.burst ?? limit),
      refillPerSecond: (limit / intervalMs) * 1000,
    });
  }

  /** Calls waiting for their turn. */
  get queued(): number {
    return this.queue.length;
  }

  execute<T>(fn: PolicyFn<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, contextFor(options));
  }

  run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    return this.inFlight.track(() => this.runInTurn(fn, context));
  }

  /**
   * Refuses new calls and turns the waiting ones away with `THROTTLER_CLOSED`, then resolves once
   * the calls already started have finished or `timeoutMs` has passed. Idempotent.
   */
  close(options: ThrottlerCloseOptions = {}): Promise<void> {
    const timeoutMs = check.nonNegative('timeoutMs', options.timeoutMs ?? 10_000);
    this.closing ??= (async () => {
      this.stopTimer();
      this.queue.rejectAll(
        () => new ResilienceError('THROTTLER_CLOSED', 'Throttler closed while the call was waiting'),
      );
      await this.inFlight.drained(timeoutMs);
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async runInTurn<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    if (this.closing) throw new ResilienceError('THROTTLER_CLOSED', 'Throttler is closed');
    if (context.signal.aborted) throw abortError(context.signal);
    if (this.queue.length > 0 || !this.bucket.tryRemove(1)) {
      if (this.queue.length >= this.maxQueue) {
        throw new ResilienceError('THROTTLER_QUEUE_FULL', `Throttler queue is full (${this.maxQueue} waiting)`, {
          isRetryable: true,
        });
      }
      const turn = this.queue.wait(context.signal);
      this.schedule();
      await turn;
    }
    return await fn(context);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const wait = Math.max(1, Math.ceil(this.bucket.timeUntilAvailable(1)));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (this.queue.length > 0 && this.bucket.tryRemove(1)) this.queue.next();
      this.schedule();
    }, wait);
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
