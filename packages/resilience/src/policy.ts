/** What every policy hands to the function it runs. */
export interface PolicyContext {
  /** Aborted when the caller aborts, or when a timeout policy gives up on the call. */
  readonly signal: AbortSignal;
  /** 1-based attempt number when running under a retry policy, otherwise 1. */
  readonly attempt: number;
}

export interface ExecuteOptions {
  /** Cancels the call: waiting stops and the function's own signal is aborted. */
  signal?: AbortSignal | undefined;
}

/** A function run under a policy. */
export type PolicyFn<T> = (context: PolicyContext) => PromiseLike<T> | T;

/** Anything that can run a function under its protection; policies compose with `wrap()`. */
export interface Policy {
  execute<T>(fn: PolicyFn<T>, options?: ExecuteOptions): Promise<T>;
  /** Internal entry used by `wrap()` to pass the context on unchanged. */
  run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T>;
}

/** A signal that never aborts, shared so that calls without a caller signal allocate nothing. */
export const neverAborted: AbortSignal = new AbortController().signal;

/** The context of a first attempt without a caller signal, shared: such calls allocate none. */
const defaultContext: PolicyContext = Object.freeze({ signal: neverAborted, attempt: 1 });

export function contextFor(options: ExecuteOptions | undefined): PolicyContext {
  const signal = options?.signal;
  return signal ? { signal, attempt: 1 } : defaultContext;
}
