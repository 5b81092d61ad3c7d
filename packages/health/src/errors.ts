/**
 * Error codes raised by @infra/health. Identify errors by `code` (or with {@link isHealthError}),
 * never by `instanceof`: two copies of this package may be installed.
 */
export const HealthErrorCodes = {
  INVALID_OPTION: 'INVALID_OPTION',
  DUPLICATE_CHECK: 'DUPLICATE_CHECK',
  UNKNOWN_CHECK: 'UNKNOWN_CHECK',
  INVALID_STATUS: 'INVALID_STATUS',
  CHECK_TIMEOUT: 'CHECK_TIMEOUT',
} as const;

export type HealthErrorCode = (typeof HealthErrorCodes)[keyof typeof HealthErrorCodes];

const marker = Symbol.for('@infra/health.error');

interface ErrorInit {
  cause?: unknown;
  isRetryable?: boolean;
}

/** Base class of every error this package throws or reports on its own account. */
export class HealthError extends Error {
  readonly code: HealthErrorCode;
  readonly isRetryable: boolean;

  constructor(code: HealthErrorCode, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'HealthError';
    this.code = code;
    this.isRetryable = init.isRetryable ?? false;
  }

  /** True for any error created by any copy of @infra/health. */
  static isInstance(error: unknown): error is HealthError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(HealthError.prototype, marker, { value: true });

/** True when `error` comes from @infra/health (any installed copy), optionally with the given code. */
export function isHealthError<C extends HealthErrorCode>(error: unknown, code?: C): error is HealthError & { code: C } {
  return HealthError.isInstance(error) && (code === undefined || error.code === code);
}

/** Thrown when an option or argument is out of range or of the wrong type. */
export class InvalidOptionError extends HealthError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `Invalid option "${option}": expected ${expected}, got ${describe(value)}`);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
  }
}

/** Recorded as a check's error when the check runs past its timeout. */
export class CheckTimeoutError extends HealthError {
  readonly check: string;
  readonly timeoutMs: number;

  constructor(check: string, timeoutMs: number) {
    super('CHECK_TIMEOUT', `Health check "${check}" timed out after ${timeoutMs} ms`, { isRetryable: true });
    this.name = 'CheckTimeoutError';
    this.check = check;
    this.timeoutMs = timeoutMs;
  }
}

/** A short, safe description of a value for error messages (never its whole content). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
}
