/**
 * Resolves after `ms`. When `signal` aborts first, the timer is cleared and the promise rejects
 * with the signal's reason (wrapped by `onAbort`, when given, so that callers see a coded error).
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  onAbort: (reason: unknown) => unknown = (reason) => reason,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(onAbort(signal.reason));
  return new Promise((resolve, reject) => {
    const aborted = (): void => {
      clearTimeout(timer);
      reject(onAbort(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
