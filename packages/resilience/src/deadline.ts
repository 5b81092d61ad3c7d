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

/** Runs `fn` with a signal that aborts on the caller's abort or after `timeoutMs`. */
export function runWithDeadline<T>(
  fn: PolicyFn<T>,
  context: PolicyContext,
  timeoutMs: number,
  strategy: TimeoutStrategy,
  what: string,
): Promise<T> {
  const controller = new AbortController();
  const parent = context.signal;
  const aggressive = strategy === 'aggressive';

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      if (parent !== neverAborted) parent.removeEventListener('abort', onParentAbort);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      cleanup();
      reject(error);
    };
    const onParentAbort = (): void => {
      controller.abort(parent.reason);
      if (aggressive) fail(abortError(parent));
    };
    const timer = setTimeout(() => {
      const error = new TimeoutError(timeoutMs, what);
      controller.abort(error);
      if (aggressive) fail(error);
    }, timeoutMs);
    if (parent !== neverAborted) parent.addEventListener('abort', onParentAbort, { once: true });

    let pending: PromiseLike<T> | T;
    try {
      pending = fn({ signal: controller.signal, attempt: context.attempt });
    } catch (error) {
      fail(error);
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        if (settled) return;
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        const reason: unknown = controller.signal.reason;
        if (controller.signal.aborted && isResilienceError(reason, 'TIMEOUT') && error !== reason) {
          fail(new TimeoutError(timeoutMs, what, error));
        } else if (controller.signal.aborted && parent.aborted) {
          fail(abortError(parent));
        } else {
          fail(error);
        }
      },
    );
  });
}
