import { toOpenAIClientError } from '../src/to-client-error.js';

/** What a call rejected with, as the coded error of this package (undefined when it resolved). */
export async function failure(call: PromiseLike<unknown>): Promise<unknown> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return toOpenAIClientError(error) ?? error;
  }
}
