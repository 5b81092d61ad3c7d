/**
 * Error codes raised by @infra/monitoring. Identify errors by `code` (or with
 * {@link isMonitoringError}), never by `instanceof`: two copies of this package may be installed.
 */
export const MonitoringErrorCodes = {
  INVALID_OPTION: 'INVALID_OPTION',
  INVALID_METRIC: 'INVALID_METRIC',
  INVALID_LABEL: 'INVALID_LABEL',
  DUPLICATE_METRIC: 'DUPLICATE_METRIC',
  UNKNOWN_METRIC: 'UNKNOWN_METRIC',
  DUPLICATE_DOMAIN: 'DUPLICATE_DOMAIN',
  HEALTH_CHECK_FAILED: 'HEALTH_CHECK_FAILED',
  MISSING_PEER: 'MISSING_PEER',
  TRANSPORT_UNAVAILABLE: 'TRANSPORT_UNAVAILABLE',
} as const;

export type MonitoringErrorCode = (typeof MonitoringErrorCodes)[keyof typeof MonitoringErrorCodes];

const marker = Symbol.for('@infra/monitoring.error');

interface ErrorInit {
  cause?: unknown;
  isRetryable?: boolean;
}

/** Base class of every error this package throws or reports on its own account. */
export class MonitoringError extends Error {
  readonly code: MonitoringErrorCode;
  readonly isRetryable: boolean;

  constructor(code: MonitoringErrorCode, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'MonitoringError';
    this.code = code;
    this.isRetryable = init.isRetryable ?? false;
  }

  /** True for any error created by any copy of @infra/monitoring. */
  static isInstance(error: unknown): error is MonitoringError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(MonitoringError.prototype, marker, { value: true });

/** True when `error` comes from @infra/monitoring (any installed copy), optionally with the given code. */
export function isMonitoringError<C extends MonitoringErrorCode>(
  error: unknown,
  code?: C,
): error is MonitoringError & { code: C } {
  return MonitoringError.isInstance(error) && (code === undefined || error.code === code);
}

/** Thrown when an option or argument is out of range or of the wrong type. */
export class InvalidOptionError extends MonitoringError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `Invalid option "${option}": expected ${expected}, got ${describe(value)}`);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
  }
}

/** Reported (not thrown) by the health-check scheduler for a failing critical check. */
export class HealthCheckFailedError extends MonitoringError {
  readonly check: string;

  constructor(check: string, output: string | undefined, cause?: unknown) {
    super('HEALTH_CHECK_FAILED', `Critical health check "${check}" failed${output ? `: ${output}` : ''}`, { cause });
    this.name = 'HealthCheckFailedError';
    this.check = check;
  }
}

/** Thrown when an optional peer dependency is needed but not installed. */
export class MissingPeerError extends MonitoringError {
  readonly peer: string;

  constructor(peer: string, feature: string, cause?: unknown) {
    super('MISSING_PEER', `${feature} needs the optional peer "${peer}": install it with \`npm install ${peer}\``, {
      cause,
    });
    this.name = 'MissingPeerError';
    this.peer = peer;
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
