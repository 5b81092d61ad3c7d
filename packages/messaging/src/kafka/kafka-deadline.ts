import { MessagingError, errorMessage } from '../errors.js';

/**
 * `connecting`, or an `ADAPTER_UNAVAILABLE` error once `timeoutMs` has passed or when it fails: a
 * client retrying unreachable brokers never holds a caller past its connect timeout.
 */
export async function withinDeadline<T>(connecting: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(
        new MessagingError('ADAPTER_UNAVAILABLE', `Kafka ${what} did not connect within ${String(timeoutMs)} ms`, {
          isRetryable: true,
        }),
      );
    }, timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      connecting.catch((error: unknown) => {
        throw new MessagingError('ADAPTER_UNAVAILABLE', `Kafka ${what} cannot connect: ${errorMessage(error)}`, {
          cause: error,
          isRetryable: true,
        });
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
