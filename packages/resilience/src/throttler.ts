import { ResilienceError, abortError, check } from './errors.js';
import {
  contextFor,
  neverAborted,
  type ExecuteOptions,
  type Policy,
  type PolicyContext,
  type PolicyFn,
} from './policy.js';
import { TokenBucket } from './token-bucket.js';

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

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * Spaces calls out to a rate: instead of rejecting the excess like a rate limiter, it queues it
 * (FIFO) and starts each call when a token is free. One timer at most, cleared when the queue empties.
 */
export class Throttler implements Policy {
  private readonly bucket: TokenBucket;
  private readonly maxQueue: number;
  private readonly queue: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

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

  async run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    if (this.closed) throw new ResilienceError('THROTTLER_CLOSED', 'Throttler is closed');
    if (context.signal.aborted) throw abortError(context.signal);
    if (this.queue.length > 0 || !this.bucket.tryRemove(1)) await this.enqueue(context.signal);
    return fn(context);
  }

  /** Rejects every waiting call with `THROTTLER_CLOSED` and refuses new ones. Idempotent. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.queue.splice(0)) {
      if (waiter.signal !== neverAborted) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new ResilienceError('THROTTLER_CLOSED', 'Throttler closed while the call was waiting'));
    }
  }

  private enqueue(signal: AbortSignal): Promise<void> {
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new ResilienceError('THROTTLER_QUEUE_FULL', `Throttler queue is full (${this.maxQueue} waiting)`, {
          isRetryable: true,
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(abortError(signal));
          if (this.queue.length === 0) this.stopTimer();
        },
      };
      if (signal !== neverAborted) signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const wait = Math.max(1, Math.ceil(this.bucket.timeUntilAvailable(1)));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    while (this.queue.length > 0 && this.bucket.tryRemove(1)) {
      const waiter = this.queue.shift();
      if (!waiter) break;
      if (waiter.signal !== neverAborted) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.schedule();
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
