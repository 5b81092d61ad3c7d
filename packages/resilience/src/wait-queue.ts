import { abortError } from './errors.js';
import { neverAborted } from './policy.js';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * Callers waiting for their turn, first in first out, shared by the bulkhead (a free slot) and the
 * throttler (a free token). A caller whose signal aborts leaves the queue with an `ABORTED` error.
 */
export class WaitQueue {
  private readonly waiters: Waiter[] = [];
  private readonly onAbandon: (() => void) | undefined;

  /** `onAbandon` is told when an aborted caller has left the queue. */
  constructor(onAbandon?: () => void) {
    this.onAbandon = onAbandon;
  }

  get length(): number {
    return this.waiters.length;
  }

  /** Resolves when {@link next} gives this caller its turn; rejects if `signal` aborts first. */
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(abortError(signal));
          this.onAbandon?.();
        },
      };
      if (signal !== neverAborted) signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives the oldest caller its turn; false when nobody waits. */
  next(): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    this.forget(waiter);
    waiter.resolve();
    return true;
  }

  /** Turns every waiting caller away with `error()`. */
  rejectAll(error: () => unknown): void {
    for (const waiter of this.waiters.splice(0)) {
      this.forget(waiter);
      waiter.reject(error());
    }
  }

  private forget(waiter: Waiter): void {
    if (waiter.signal !== neverAborted) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }
}
