import { InfraError, errorCodes, errorFamily, invalidOptionClass, optionChecks } from '@infra/core';
import type { ErrorCodeMap, ErrorGuard, InvalidOptionClass, InvalidOptionErrorOf, OptionChecks } from '@infra/core';

const codes = [
  'CIRCUIT_OPEN',
  'TIMEOUT',
  'BULKHEAD_FULL',
  'BULKHEAD_CLOSED',
  'RATE_LIMITED',
  'ABORTED',
  'THROTTLER_CLOSED',
  'THROTTLER_QUEUE_FULL',
  'INVALID_OPTION',
  'STORE_UNAVAILABLE',
  'MISSING_PEER',
] as const;

/** The `code` of an error of this package. */
export type ErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/resilience. Identify errors by `code` (or with
 * {@link isResilienceError}), never by `instanceof`: two copies of this package may be installed.
 */
export const ErrorCodes: ErrorCodeMap<ErrorCode> = errorCodes(codes);

/** Base class of every error this package throws on its own account. */
export class ResilienceError extends InfraError<ErrorCode> {}

/**
 * True when `error` comes from @infra/resilience (any installed copy), optionally with the given
 * code; with a code, narrows to that code's class (`CIRCUIT_OPEN` → {@link CircuitOpenError}).
 */
export const isResilienceError: ErrorGuard<ResilienceError, ResilienceErrorsByCode> = errorFamily(
  ResilienceError,
  '@infra/resilience',
).is;

/** Thrown by a circuit breaker that refuses a call. */
export class CircuitOpenError extends ResilienceError {
  /** Name of the breaker that rejected the call. */
  readonly breaker: string;
  /** Milliseconds until the breaker admits a probe again (0 when isolated: unknown). */
  readonly retryAfterMs: number;

  constructor(breaker: string, retryAfterMs: number, isolated = false) {
    super(
      'CIRCUIT_OPEN',
      isolated
        ? `Circuit "${breaker}" is isolated; calls are rejected until it is closed by hand`
        : `Circuit "${breaker}" is open; next probe in ${Math.ceil(retryAfterMs)} ms`,
      { isRetryable: !isolated },
    );
    this.breaker = breaker;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown when an operation runs past its deadline. */
export class TimeoutError extends ResilienceError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number, what = 'Operation', cause?: unknown) {
    super('TIMEOUT', `${what} timed out after ${timeoutMs} ms`, { isRetryable: true, cause });
    this.timeoutMs = timeoutMs;
  }
}

/** Thrown by a bulkhead whose slots and queue are all taken. */
export class BulkheadFullError extends ResilienceError {
  readonly maxConcurrent: number;
  readonly maxQueue: number;

  constructor(maxConcurrent: number, maxQueue: number) {
    super('BULKHEAD_FULL', `Bulkhead is full (${maxConcurrent} running, ${maxQueue} queued)`, { isRetryable: true });
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}

/** Thrown when a rate limit refuses a request. */
export class RateLimitedError extends ResilienceError {
  readonly key: string;
  readonly limit: number;
  /** Milliseconds until the request would be admitted. */
  readonly retryAfterMs: number;

  constructor(key: string, limit: number, retryAfterMs: number) {
    super('RATE_LIMITED', `Rate limit of ${limit} exceeded for "${key}"; retry in ${Math.ceil(retryAfterMs)} ms`, {
      isRetryable: true,
    });
    this.key = key;
    this.limit = limit;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown when the caller's AbortSignal aborts an operation. `cause` holds the signal's reason. */
export class AbortedError extends ResilienceError {
  constructor(reason?: unknown) {
    super('ABORTED', 'Operation was aborted', { cause: reason });
  }
}

/** Thrown at construction when an option is out of range or of the wrong type (`option` names it). */
export const InvalidOptionError: InvalidOptionClass<ResilienceError> = invalidOptionClass(ResilienceError);
/** An error made by {@link InvalidOptionError}: a `ResilienceError` with `option` and `value`. */
export type InvalidOptionError = InvalidOptionErrorOf<ResilienceError>;

/** An abort reason, wrapped so that callers always get a coded error. */
export function abortReason(reason: unknown): ResilienceError {
  return isResilienceError(reason) ? reason : new AbortedError(reason);
}

/** The reason an aborted signal carries, wrapped so that callers always get a coded error. */
export function abortError(signal: AbortSignal): ResilienceError {
  return abortReason(signal.reason);
}

/** Checks of options and arguments, throwing {@link InvalidOptionError}. */
export const check: OptionChecks = optionChecks(InvalidOptionError);

/** The class of each code that has one, for the narrowing of {@link isResilienceError}. */
export interface ResilienceErrorsByCode {
  CIRCUIT_OPEN: CircuitOpenError;
  TIMEOUT: TimeoutError;
  BULKHEAD_FULL: BulkheadFullError;
  RATE_LIMITED: RateLimitedError;
  ABORTED: AbortedError;
  INVALID_OPTION: InvalidOptionError;
}
