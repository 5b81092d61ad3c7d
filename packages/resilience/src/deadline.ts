import { activeSpan } from '@infra/core';
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

const STARTED = 0;
const QUEUED = 1;
const OVER = 2;

/** Calls started in one turn of the event loop, past which they are queued at once (one clock read for all). */
const MAX_STARTED = 256;

/**
 * One call under a deadline, and the context handed to its function. The AbortController is
 * created only if the function reads `signal`: most calls finish in time and never need one.
 */
class DeadlineCall implements PolicyContext {
  prev: DeadlineCall | undefined = undefined;
  next: DeadlineCall | undefined = undefined;
  /** Set when the call joins the queue of deadlines (see {@link DeadlineQueue}). */
  deadline = 0;
  /** Started, in the queue of deadlines, or over. */
  state: 0 | 1 | 2 = STARTED;
  readonly attempt: number;
  reason: unknown = undefined;
  aborted = false;
  /** Rejects the caller's promise at the deadline (aggressive strategy only). */
  reject: ((error: unknown) => void) | undefined = undefined;
  private controller: AbortController | undefined = undefined;

  constructor(attempt: number) {
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
 *
 * A call's deadline is set when the event loop next turns (an immediate), for every call started
 * since, with one clock read: most calls settle before that and never read the clock or join the
 * queue. A deadline is thus never early, and late by at most the rest of the task that started
 * the call, which could not have let the timer fire anyway. PERFORMANCE.md gives what this saves.
 */
export class DeadlineQueue {
  readonly timeoutMs: number;
  private readonly what: string;
  private head: DeadlineCall | undefined = undefined;
  private tail: DeadlineCall | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Calls started since the last turn of the event loop, not yet given a deadline. */
  private started: DeadlineCall[] = [];
  private turnPending = false;

  constructor(timeoutMs: number, what: string) {
    this.timeoutMs = timeoutMs;
    this.what = what;
  }

  /**
   * Runs `fn` under this queue's deadline; see {@link TimeoutStrategy}. `settled`, when given, is
   * told the outcome (the explained error on failure) just before the returned promise settles,
   * so that a caller can do its bookkeeping without a promise of its own. On a failure it may
   * return a promise to settle with instead of the error (a retry); if it throws, the promise
   * rejects with what it threw.
   */
  run<T>(
    fn: PolicyFn<T>,
    context: PolicyContext,
    strategy: TimeoutStrategy,
    settled?: (failed: boolean, error: unknown) => PromiseLike<T> | undefined,
  ): Promise<T> {
    const parent = context.signal;
    // Taken now: an aggressive deadline settles the call from a timer, outside the caller's context.
    const span = activeSpan();
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
        if (failed && span !== undefined && isResilienceError(outcome, 'TIMEOUT')) {
          span.addEvent('timeout', { 'timeout.ms': this.timeoutMs, 'timeout.operation': this.what });
        }
        let instead: PromiseLike<T> | undefined;
        try {
          instead = settled?.(failed, failed ? outcome : undefined);
        } catch (thrown) {
          reject(thrown);
          return;
        }
        if (!failed) resolve(outcome as T);
        else if (instead === undefined) reject(outcome);
        else resolve(instead);
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
    const call = new DeadlineCall(attempt);
    this.started.push(call);
    if (this.started.length > MAX_STARTED) {
      this.queueStarted();
    } else if (!this.turnPending) {
      this.turnPending = true;
      setImmediate(this.onTurn);
    }
    return call;
  }

  private readonly onTurn = (): void => {
    this.turnPending = false;
    this.queueStarted();
  };

  /** Gives the calls started so far and still running their deadline, and queues them. */
  private queueStarted(): void {
    const started = this.started;
    if (started.length === 0) return;
    this.started = [];
    const deadline = Date.now() + this.timeoutMs;
    for (const call of started) {
      if (call.state !== STARTED) continue;
      call.state = QUEUED;
      call.deadline = deadline;
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
    }
  }

  private remove(call: DeadlineCall): void {
    const state = call.state;
    call.state = OVER;
    if (state === STARTED) {
      // Settled before its deadline was set, as most calls are: the usual case pops the last one.
      const started = this.started;
      if (started[started.length - 1] === call) started.pop();
      return;
    }
    if (state === OVER) return; // already expired and unlinked
    if (call.prev) call.prev.next = call.next;
    else this.head = call.next;
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
