/** The signal of calls made without one; nothing ever listens to it for long. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
