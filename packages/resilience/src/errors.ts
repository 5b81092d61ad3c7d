/**
 * Error codes raised by @infra/resilience. Identify errors by `code` (or with
 * {@link isResilienceError}), never by `instanceof`: two copies of this package may be installed.
 */
export const ErrorCodes = {
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  TIMEOUT: 'TIMEOUT',
  BULKHEAD_FULL: 'BULKHEAD_FULL',
  RATE_LIMITED: 'RATE_LIMITED',
  ABORTED: 'ABORTED',
  THROTTLER_CLOSED: 'THROTTLER_CLOSED',
  THROTTLER_QUEUE_FULL: 'THROTTLER_QUEUE_FULL',
  INVALID_OPTION: 'INVALID_OPTION',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  MISSING_PEER: 'MISSING_PEER',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const marker = Symbol.for('@infra/resilience.error');

interface ErrorInit {
  cause?: unknown;
  isRetryable?: boolean;
}

/** Base class of every error this package throws on its own account. */
export class ResilienceError extends Error {
  readonly code: ErrorCode;
  readonly isRetryable: boolean;

  constructor(code: ErrorCode, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ResilienceError';
    this.code = code;
    this.isRetryable = init.isRetryable ?? false;
  }

  /** True for any error created by any copy of @infra/resilience. */
  static isInstance(error: unknown): error is ResilienceError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(ResilienceError.prototype, marker, { value: true });

/**
 * True when `error` comes from @infra/resilience (any installed copy), optionally with the given code.
 */
export function isResilienceError<C extends ErrorCode>(
  error: unknown,
  code?: C,
): error is ResilienceError & { code: C } {
  return ResilienceError.isInstance(error) && (code === undefined || error.code === code);
}

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
    this.name = 'CircuitOpenError';
    this.breaker = breaker;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown when an operation runs past its deadline. */
export class TimeoutError extends ResilienceError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number, what = 'Operation', cause?: unknown) {
    super('TIMEOUT', `${what} timed out after ${timeoutMs} ms`, { isRetryable: true, cause });
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** Thrown by a bulkhead whose slots and queue are all taken. */
export class BulkheadFullError extends ResilienceError {
  readonly maxConcurrent: number;
  readonly maxQueue: number;

  constructor(maxConcurrent: number, maxQueue: number) {
    super('BULKHEAD_FULL', `Bulkhead is full (${maxConcurrent} running, ${maxQueue} queued)`, { isRetryable: true });
    this.name = 'BulkheadFullError';
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
    this.name = 'RateLimitedError';
    this.key = key;
    this.limit = limit;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown when the caller's AbortSignal aborts an operation. `cause` holds the signal's reason. */
export class AbortedError extends ResilienceError {
  constructor(reason?: unknown) {
    super('ABORTED', 'Operation was aborted', { cause: reason });
    this.name = 'AbortedError';
  }
}

/** Thrown at construction when an option is out of range or of the wrong type. */
export class InvalidOptionError extends ResilienceError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `Invalid option "${option}": expected ${expected}, got ${describe(value)}`);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
}

/** The reason an aborted signal carries, wrapped so that callers always get a coded error. */
export function abortError(signal: AbortSignal): ResilienceError {
  const reason: unknown = signal.reason;
  return ResilienceError.isInstance(reason) ? reason : new AbortedError(reason);
}
