import { abortError } from './errors.js';
import { neverAborted } from './policy.js';

/** Resolves after `ms`; rejects with an `ABORTED` error (and clears its timer) if `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal = neverAborted): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      if (signal !== neverAborted) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal !== neverAborted) signal.addEventListener('abort', onAbort, { once: true });
  });
}
