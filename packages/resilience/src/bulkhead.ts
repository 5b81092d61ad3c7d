import { BulkheadFullError, abortError, check } from './errors.js';
import {
  contextFor,
  neverAborted,
  type ExecuteOptions,
  type Policy,
  type PolicyContext,
  type PolicyFn,
} from './policy.js';

export interface BulkheadOptions {
  /** Calls allowed to run at once. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot; more are rejected with `BULKHEAD_FULL`. @default 0 */
  maxQueue?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/** Limits concurrent calls, with a bounded FIFO queue for the overflow. */
export class Bulkhead implements Policy {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private running = 0;
  private readonly queue: Waiter[] = [];

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

  async run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    if (context.signal.aborted) throw abortError(context.signal);
    if (this.running < this.maxConcurrent) {
      this.running++;
    } else if (this.queue.length < this.maxQueue) {
      await this.wait(context.signal);
    } else {
      throw new BulkheadFullError(this.maxConcurrent, this.maxQueue);
    }
    try {
      return await fn(context);
    } finally {
      this.release();
    }
  }

  /** Resolves once a slot has been handed to this caller (the slot is already counted). */
  private wait(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(abortError(signal));
        },
      };
      if (signal !== neverAborted) signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.running--;
      return;
    }
    if (next.signal !== neverAborted) next.signal.removeEventListener('abort', next.onAbort);
    next.resolve();
  }
}

/** Creates a {@link Bulkhead}. */
export function bulkhead(maxConcurrent: number, maxQueue = 0): Bulkhead {
  return new Bulkhead({ maxConcurrent, maxQueue });
}
