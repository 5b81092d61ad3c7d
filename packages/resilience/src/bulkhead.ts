import { BulkheadFullError, ResilienceError, abortError, check } from './errors.js';
import { InFlight } from './in-flight.js';
import { contextFor, type ExecuteOptions, type Policy, type PolicyContext, type PolicyFn } from './policy.js';
import { WaitQueue } from './wait-queue.js';

export interface BulkheadOptions {
  /** Calls allowed to run at once. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot; more are rejected with `BULKHEAD_FULL`. @default 0 */
  maxQueue?: number;
}

/** Options of {@link Bulkhead.close}. */
export interface BulkheadCloseOptions {
  /** Longest wait for running calls to finish (ms). @default 10_000 */
  timeoutMs?: number;
}

/** Limits concurrent calls, with a bounded FIFO queue for the overflow. */
export class Bulkhead implements Policy {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private running = 0;
  private readonly queue = new WaitQueue();
  private readonly inFlight = new InFlight();
  private closing: Promise<void> | undefined;

  constructor(options: BulkheadOptions) {
    this.maxConcurrent = check.integer('maxConcurrent', options.maxConcurrent);
    this.maxQueue = check.integer('maxQueue', options.maxQueue ?? 0, 0);
  }

  /** Calls running now. */
  get executing(): number {
    return this.running;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  execute<T>(fn: PolicyFn<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, contextFor(options));
  }

  run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    return this.inFlight.track(() => this.runInSlot(fn, context));
  }

  /**
   * Refuses new calls with `BULKHEAD_CLOSED`, turns the waiting ones away with the same code, and
   * resolves once the running calls have finished or `timeoutMs` has passed. Idempotent.
   */
  close(options: BulkheadCloseOptions = {}): Promise<void> {
    const timeoutMs = check.nonNegative('timeoutMs', options.timeoutMs ?? 10_000);
    this.closing ??= (async () => {
      this.queue.rejectAll(() => closedError('Bulkhead closed while the call was waiting'));
      await this.inFlight.drained(timeoutMs);
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async runInSlot<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    if (this.closing) throw closedError('Bulkhead is closed');
    if (context.signal.aborted) throw abortError(context.signal);
    if (this.running < this.maxConcurrent) {
      this.running++;
    } else if (this.queue.length < this.maxQueue) {
      // The slot is handed over by release() without being freed in between.
      await this.queue.wait(context.signal);
    } else {
      throw new BulkheadFullError(this.maxConcurrent, this.maxQueue);
    }
    try {
      return await fn(context);
    } finally {
      if (!this.queue.next()) this.running--;
    }
  }
}

function closedError(message: string): ResilienceError {
  return new ResilienceError('BULKHEAD_CLOSED', message);
}

/** Creates a {@link Bulkhead}. */
export function bulkhead(maxConcurrent: number, maxQueue = 0): Bulkhead {
  return new Bulkhead({ maxConcurrent, maxQueue });
}
