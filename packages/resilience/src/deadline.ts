import { TimeoutError, abortError, isResilienceError } from './errors.js';
import { neverAborted, type PolicyContext, type PolicyFn } from './policy.js';

/**
 * How a timeout ends a call.
 * - `aggressive`: the returned promise rejects at the deadline; the function's signal is aborted
 *   and whatever it does afterwards is ignored.
 * - `cooperative`: the function's signal is aborted at the deadline and the promise settles when
 *   the function does: its value if it still resolves, a `TIMEOUT` error if it rejects.
 */
export type TimeoutStrategy = 'aggressive' | 'cooperative';

/**
 * One call under a deadline, and the context handed to its function. The AbortController is
 * created only if the function reads `signal`: most calls finish in time and never need one.
 */
class DeadlineCall implements PolicyContext {
  prev: DeadlineCall | undefined = undefined;
  next: DeadlineCall | undefined = undefined;
  readonly deadline: number;
  readonly attempt: number;
  reason: unknown = undefined;
  aborted = false;
  /** Rejects the caller's promise at the deadline (aggressive strategy only). */
  reject: ((error: unknown) => void) | undefined = undefined;
  private controller: AbortController | undefined = undefined;

  constructor(deadline: number, attempt: number) {
    this.deadline = deadline;
    this.attempt = attempt;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.reject?.(reason);
  }
}

/**
 * Deadlines of one duration, in the order they were set, which is also the order in which they
 * expire: adding and removing are O(1), and one timer serves them all. The timer is re-armed for
 * the next deadline when it fires, and unref'd while no call is waiting, so an idle queue never
 * keeps the process alive and fires at most once more.
 */
export class DeadlineQueue {
  readonly timeoutMs: number;
  private readonly what: string;
  private head: DeadlineCall | undefined = undefined;
  private tail: DeadlineCall | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(timeoutMs: number, what: string) {
    this.timeoutMs = timeoutMs;
    this.what = what;
  }

  /**
   * Runs `fn` under this queue's deadline; see {@link TimeoutStrategy}. `settled`, when given, is
   * told the outcome (the explained error on failure) just before the returned promise settles,
   * so that a caller can do its bookkeeping without a promise of its own; if it throws, the
   * promise rejects with what it threw.
   */
  run<T>(fn: PolicyFn<T>, context: PolicyContext, strategy: TimeoutStrategy, settled?: (failed: boolean, error: unknown) => void): Promise<T> {
    const parent = context.signal;
    const call = this.add(context.attempt);
    let onParentAbort: (() => void) | undefined;
    if (parent !== neverAborted) {
      onParentAbort = () => {
        call.abort(abortError(parent));
      };
      parent.addEventListener('abort', onParentAbort, { once: true });
    }
    const finish = (): void => {
      this.remove(call);
      if (onParentAbort) parent.removeEventListener('abort', onParentAbort);
    };
    // One promise per call, settled by whichever comes first: the function or (aggressive) the deadline.
    return new Promise<T>((resolve, reject) => {
      // The first outcome wins: with the aggressive strategy the deadline may come before `fn`.
      let done = false;
      const settle = (failed: boolean, outcome: unknown): void => {
        if (done) return;
        done = true;
        finish();
        try {
          settled?.(failed, failed ? outcome : undefined);
        } catch (thrown) {
          reject(thrown);
          return;
        }
        if (failed) reject(outcome);
        else resolve(outcome as T);
      };
      const fail = (error: unknown): void => {
        settle(true, error);
      };
      if (strategy === 'aggressive') call.reject = fail;
      let pending: PromiseLike<T> | T;
      try {
        pending = fn(call);
      } catch (error) {
        fail(error);
        return;
      }
      if (!isThenable(pending)) {
        settle(false, pending);
        return;
      }
      pending.then(
        (value) => {
          settle(false, value);
        },
        (error: unknown) => {
          settle(true, this.explain(error, call, parent));
        },
      );
    });
  }

  /** What a rejection means once the call may have been aborted by the deadline or the caller. */
  private explain(error: unknown, call: DeadlineCall, parent: AbortSignal): unknown {
    if (!call.aborted || error === call.reason) return error;
    if (isResilienceError(call.reason, 'TIMEOUT')) return new TimeoutError(this.timeoutMs, this.what, error);
    return parent.aborted ? abortError(parent) : error;
  }

  private add(attempt: number): DeadlineCall {
    const call = new DeadlineCall(Date.now() + this.timeoutMs, attempt);
    if (this.tail) {
      this.tail.next = call;
      call.prev = this.tail;
    } else {
      this.head = call;
    }
    this.tail = call;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.expire, this.timeoutMs);
    } else if (call === this.head) {
      this.timer.ref();
    }
    return call;
  }

  private remove(call: DeadlineCall): void {
    if (call.prev) call.prev.next = call.next;
    else if (this.head === call) this.head = call.next;
    else return; // already expired and unlinked
    if (call.next) call.next.prev = call.prev;
    else this.tail = call.prev;
    call.prev = call.next = undefined;
    if (!this.head) this.timer?.unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    // Timers may fire up to a millisecond before Date.now() reaches the deadline.
    const now = Date.now() + 1;
    while (this.head && this.head.deadline <= now) {
      const call = this.head;
      this.remove(call);
      call.abort(new TimeoutError(this.timeoutMs, this.what));
    }
    if (this.head) this.timer = setTimeout(this.expire, Math.max(1, this.head.deadline - Date.now()));
  };
}

function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
