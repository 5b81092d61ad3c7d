/**
 * Error codes raised by @infra/api. Identify errors by `code` (or with {@link isApiError}),
 * never by `instanceof`: two copies of this package may be installed.
 */
export const ApiErrorCodes = {
  /** A `page` or `limit` from the query string that is not a positive integer in range. */
  INVALID_PAGINATION: 'INVALID_PAGINATION',
  /** A cursor that is malformed, tampered with, signed by another secret or namespace, or expired. */
  INVALID_CURSOR: 'INVALID_CURSOR',
  /** A CORS configuration that would let any site make credentialed requests. */
  UNSAFE_CORS_CONFIG: 'UNSAFE_CORS_CONFIG',
  /** A configuration option out of range or of the wrong type. */
  INVALID_OPTION: 'INVALID_OPTION',
  /** An optional peer dependency (fastify plugin) is needed but not installed. */
  MISSING_PEER: 'MISSING_PEER',
} as const;

export type ApiErrorCode = (typeof ApiErrorCodes)[keyof typeof ApiErrorCodes];

const marker = Symbol.for('@infra/api.error');

interface ErrorInit {
  cause?: unknown;
}

/** Base class of every error this package throws on its own account. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** None of these errors goes away by trying the same thing again. */
  readonly isRetryable: boolean = false;

  constructor(code: ApiErrorCode, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ApiError';
    this.code = code;
  }

  /** True for any error created by any copy of @infra/api. */
  static isInstance(error: unknown): error is ApiError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(ApiError.prototype, marker, { value: true });

/** True when `error` comes from @infra/api (any installed copy), optionally with the given code. */
export function isApiError<C extends ApiErrorCode>(error: unknown, code?: C): error is ApiError & { code: C } {
  return ApiError.isInstance(error) && (code === undefined || error.code === code);
}

/** Thrown by `createPagination` / `createCursorPagination` for a bad `page` or `limit`. */
export class InvalidPaginationError extends ApiError {
  /** `page` or `limit`. */
  readonly parameter: string;
  readonly value: unknown;

  constructor(parameter: string, value: unknown, expected: string) {
    super('INVALID_PAGINATION', `Invalid "${parameter}": expected ${expected}, got ${describe(value)}`);
    this.name = 'InvalidPaginationError';
    this.parameter = parameter;
    this.value = value;
  }
}

/** Thrown when a cursor cannot be trusted. The message never echoes the cursor's content. */
export class InvalidCursorError extends ApiError {
  /** Why the cursor was refused: `malformed`, `signature` or `expired`. */
  readonly reason: 'malformed' | 'signature' | 'expired';

  constructor(reason: 'malformed' | 'signature' | 'expired') {
    const why = {
      malformed: 'it is not a cursor issued by this API',
      signature: 'its signature does not match (tampered with, or issued for another listing)',
      expired: 'it has expired; start again from the first page',
    }[reason];
    super('INVALID_CURSOR', `Invalid "cursor": ${why}`);
    this.name = 'InvalidCursorError';
    this.reason = reason;
  }
}

/** Thrown at configuration time for a CORS setup that is unsafe. */
export class UnsafeCorsConfigError extends ApiError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, why: string) {
    super('UNSAFE_CORS_CONFIG', `Unsafe CORS option "${option}" (${describe(value)}): ${why}`);
    this.name = 'UnsafeCorsConfigError';
    this.option = option;
    this.value = value;
  }
}

/** Thrown at construction when an option is out of range or of the wrong type. */
export class InvalidOptionError extends ApiError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `Invalid option "${option}": expected ${expected}, got ${describe(value)}`);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
  }
}

/** Thrown when a feature needs an optional peer dependency that is not installed. */
export class MissingPeerError extends ApiError {
  /** The package to install. */
  readonly packageName: string;

  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      'MISSING_PEER',
      `${feature} needs the optional peer dependency "${packageName}": run \`npm install ${packageName}\``,
      {
        cause,
      },
    );
    this.name = 'MissingPeerError';
    this.packageName = packageName;
  }
}

/** A short, log-safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  if (value instanceof RegExp) return String(value);
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
}
