import { PersistenceError } from './errors.js';

interface Waiter {
  grant: (release: () => void) => void;
  fail: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** A FIFO async lock. `acquire` resolves with a release function that is safe to call twice. */
export class Mutex {
  private held = false;
  private readonly waiters: Waiter[] = [];

  get locked(): boolean {
    return this.held;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Waits for the lock. With `timeoutMs`, gives up after that long with the error `onTimeout`
   * builds (the waiter leaves the queue, so a timed-out caller never gets the lock later).
   */
  acquire(timeoutMs?: number, onTimeout?: () => Error): Promise<() => void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { grant: resolve, fail: reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(onTimeout?.() ?? new PersistenceError('ACQUIRE_TIMEOUT', `Lock not acquired within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter.timer.unref();
      }
      this.waiters.push(waiter);
    });
  }

  /** Rejects every waiter (used on close); the current holder keeps the lock until it releases. */
  rejectWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.fail(error);
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant(this.releaser());
      } else {
        this.held = false;
      }
    };
  }
}
