/**
 * `promise`, or a rejection with `timedOut()` once `timeoutMs` passed without an answer. The timer
 * is unref'd and cleared either way; a late outcome of `promise` is the caller's to handle.
 */
export async function within<T>(promise: Promise<T>, timeoutMs: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(timedOut());
    }, timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
