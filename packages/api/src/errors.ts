import { InfraError, describeValue, errorCodes, errorFamily, invalidOptionClass, optionChecks } from '@infra/core';
import type { ErrorCodeMap, ErrorGuard, InvalidOptionClass, InvalidOptionErrorOf, OptionChecks } from '@infra/core';

const codes = [
  'INVALID_PAGINATION',
  'INVALID_CURSOR',
  'UNSAFE_CORS_CONFIG',
  'INVALID_OPTION',
  'MISSING_PEER',
  'STORE_UNAVAILABLE',
] as const;

/** The `code` of an error of this package. */
export type ApiErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/api. Identify errors by `code` (or with {@link isApiError}),
 * never by `instanceof`: two copies of this package may be installed.
 *
 * - `INVALID_PAGINATION`: a `page` or `limit` from the query string that is not a positive integer
 *   in range.
 * - `INVALID_CURSOR`: a cursor that is malformed, tampered with, signed by another secret or
 *   namespace, or expired.
 * - `UNSAFE_CORS_CONFIG`: a CORS configuration that would let any site make credentialed requests.
 * - `INVALID_OPTION`: a configuration option out of range or of the wrong type.
 * - `MISSING_PEER`: an optional peer dependency (fastify plugin) is needed but not installed.
 * - `STORE_UNAVAILABLE`: the idempotency store failed (Redis or Postgres away): answered as a 503,
 *   the request did not run.
 */
export const ApiErrorCodes: ErrorCodeMap<ApiErrorCode> = errorCodes(codes);

/** Base class of every error this package throws on its own account. Only STORE_UNAVAILABLE is retryable. */
export class ApiError extends InfraError<ApiErrorCode> {}

/**
 * True when `error` comes from @infra/api (any installed copy), optionally with the given code;
 * with a code, narrows to that code's class (`INVALID_CURSOR` → {@link InvalidCursorError}).
 */
export const isApiError: ErrorGuard<ApiError, ApiErrorsByCode> = errorFamily(ApiError, '@infra/api').is;

/** Thrown by `createPagination` / `createCursorPagination` for a bad `page` or `limit`. */
export class InvalidPaginationError extends ApiError {
  /** `page` or `limit`. */
  readonly parameter: string;
  readonly value: unknown;

  constructor(parameter: string, value: unknown, expected: string) {
    super('INVALID_PAGINATION', `Invalid "${parameter}": expected ${expected}, got ${describeValue(value)}`);
    this.parameter = parameter;
    this.value = value;
  }
}

/** Why a cursor was refused. */
export type InvalidCursorReason = 'malformed' | 'signature' | 'expired';

const CURSOR_REASONS: Record<InvalidCursorReason, string> = {
  malformed: 'it is not a cursor issued by this API',
  signature: 'its signature does not match (tampered with, or issued for another listing)',
  expired: 'it has expired; start again from the first page',
};

/** Thrown when a cursor cannot be trusted. The message never echoes the cursor's content. */
export class InvalidCursorError extends ApiError {
  /** Why the cursor was refused: `malformed`, `signature` or `expired`. */
  readonly reason: InvalidCursorReason;

  constructor(reason: InvalidCursorReason) {
    super('INVALID_CURSOR', `Invalid "cursor": ${CURSOR_REASONS[reason]}`);
    this.reason = reason;
  }
}

/** Thrown at configuration time for a CORS setup that is unsafe. */
export class UnsafeCorsConfigError extends ApiError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, why: string) {
    super('UNSAFE_CORS_CONFIG', `Unsafe CORS option "${option}" (${describeValue(value)}): ${why}`);
    this.option = option;
    this.value = value;
  }
}

/** Thrown at construction when an option is out of range or of the wrong type (`option` names it). */
export const InvalidOptionError: InvalidOptionClass<ApiError> = invalidOptionClass(ApiError);
/** An error made by {@link InvalidOptionError}: a `ApiError` with `option` and `value`. */
export type InvalidOptionError = InvalidOptionErrorOf<ApiError>;

/** Thrown when a feature needs an optional peer dependency that is not installed. */
export class MissingPeerError extends ApiError {
  /** The package to install. */
  readonly packageName: string;

  /** `message` names the feature and the install command (see `loadOptionalPeer` of `@infra/core`). */
  constructor(packageName: string, message: string, cause?: unknown) {
    super('MISSING_PEER', message, { cause });
    this.packageName = packageName;
  }
}

/** Thrown when an idempotency store fails; retryable, the request was not run. */
export class StoreUnavailableError extends ApiError {
  constructor(operation: string, cause: unknown) {
    super('STORE_UNAVAILABLE', `The idempotency store failed to ${operation}`, { cause, isRetryable: true });
  }
}

/** What `loadOptionalPeer` of `@infra/core` throws for a missing `packageName`: MISSING_PEER naming it. */
export function missingPeer(packageName: string): (message: string, cause: unknown) => MissingPeerError {
  return (message, cause) => new MissingPeerError(packageName, message, cause);
}

/** Checks of options and arguments, throwing {@link InvalidOptionError}. */
export const check: OptionChecks = optionChecks(InvalidOptionError);

/** The class of each code, for the narrowing of {@link isApiError}. */
export interface ApiErrorsByCode {
  INVALID_PAGINATION: InvalidPaginationError;
  INVALID_CURSOR: InvalidCursorError;
  UNSAFE_CORS_CONFIG: UnsafeCorsConfigError;
  INVALID_OPTION: InvalidOptionError;
  MISSING_PEER: MissingPeerError;
  STORE_UNAVAILABLE: StoreUnavailableError;
}
