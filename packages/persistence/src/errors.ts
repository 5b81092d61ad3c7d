import { InfraError, errorCodes, errorFamily, invalidOptionClass } from '@infra/core';
import type {
  ErrorCodeMap,
  ErrorGuard,
  InfraErrorOptions,
  InvalidOptionClass,
  InvalidOptionErrorOf,
} from '@infra/core';

const codes = [
  'INVALID_OPTION',
  'INVALID_ARGUMENT',
  'MISSING_PEER',
  'NOT_CONFIGURED',
  'ALREADY_CONFIGURED',
  'CLOSED',
  'ACQUIRE_TIMEOUT',
  'CONNECTION_FAILED',
  'CONNECTION_LOST',
  'QUERY_FAILED',
  'SERIALIZATION_FAILURE',
  'DEADLOCK_DETECTED',
  'STATEMENT_TIMEOUT',
  'TRANSACTION_CLOSED',
  'TRANSACTION_ABORTED',
  'TRANSACTION_BUSY',
  'UOW_NOT_ACTIVE',
  'UOW_ALREADY_BEGUN',
  'UOW_FINISHED',
  'UOW_ABANDONED',
  'REPOSITORY_NOT_FOUND',
  'MIGRATION_FAILED',
  'MIGRATION_CHECKSUM_MISMATCH',
  'MIGRATION_LOCK_TIMEOUT',
] as const;

/** The `code` of an error of this package. */
export type ErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/persistence. Identify errors by `code` (or with
 * {@link isPersistenceError}), never by `instanceof`: two copies of this package may be installed.
 */
export const ErrorCodes: ErrorCodeMap<ErrorCode> = errorCodes(codes);

export interface PersistenceErrorInit extends InfraErrorOptions {
  /** Five-character SQLSTATE reported by the server, when the error came from it. */
  sqlState?: string | undefined;
}

/** Base class of every error this package throws. */
export class PersistenceError extends InfraError<ErrorCode> {
  /** SQLSTATE of the server error behind this one (`40001`, `23505`, …), if any. */
  readonly sqlState: string | undefined;

  constructor(code: ErrorCode, message: string, init: PersistenceErrorInit = {}) {
    super(code, message, init);
    this.sqlState = init.sqlState;
  }
}

/**
 * True when `error` comes from @infra/persistence (any installed copy), optionally with the given
 * code; with `INVALID_OPTION` or `INVALID_ARGUMENT`, narrows to {@link InvalidOptionError}.
 */
export const isPersistenceError: ErrorGuard<PersistenceError, PersistenceErrorsByCode> = errorFamily(
  PersistenceError,
  '@infra/persistence',
).is;

/** Thrown when an option (or, with `INVALID_ARGUMENT`, an argument) is out of range or of the wrong type. */
export const InvalidOptionError: InvalidOptionClass<PersistenceError> = invalidOptionClass(PersistenceError);
/** An error made by {@link InvalidOptionError}: a `PersistenceError` with `option` and `value`. */
export type InvalidOptionError = InvalidOptionErrorOf<PersistenceError>;

/** The error for an optional peer dependency that is needed but not installed. */
export function missingPeer(message: string, cause: unknown): PersistenceError {
  return new PersistenceError('MISSING_PEER', message, { cause });
}

/** Follows `cause` links (a few levels) looking for a persistence error with one of `codes`. */
export function findErrorCode(error: unknown, codes: readonly ErrorCode[]): ErrorCode | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current != null; depth++) {
    if (isPersistenceError(current) && codes.includes(current.code)) return current.code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The class of each code that has one, for the narrowing of {@link isPersistenceError}. */
export interface PersistenceErrorsByCode {
  INVALID_OPTION: InvalidOptionError;
  INVALID_ARGUMENT: InvalidOptionError;
}
