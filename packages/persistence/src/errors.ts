import { InfraError, errorFamily, invalidOptionClass } from '@infra/core';
import type { ErrorGuard, InfraErrorOptions, InvalidOptionClass, InvalidOptionErrorOf } from '@infra/core';

/**
 * Error codes raised by @infra/persistence. Identify errors by `code` (or with
 * {@link isPersistenceError}), never by `instanceof`: two copies of this package may be installed.
 */
export const ErrorCodes = {
  INVALID_OPTION: 'INVALID_OPTION',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  MISSING_PEER: 'MISSING_PEER',
  NOT_CONFIGURED: 'NOT_CONFIGURED',
  ALREADY_CONFIGURED: 'ALREADY_CONFIGURED',
  CLOSED: 'CLOSED',
  ACQUIRE_TIMEOUT: 'ACQUIRE_TIMEOUT',
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  CONNECTION_LOST: 'CONNECTION_LOST',
  QUERY_FAILED: 'QUERY_FAILED',
  SERIALIZATION_FAILURE: 'SERIALIZATION_FAILURE',
  DEADLOCK_DETECTED: 'DEADLOCK_DETECTED',
  STATEMENT_TIMEOUT: 'STATEMENT_TIMEOUT',
  TRANSACTION_CLOSED: 'TRANSACTION_CLOSED',
  TRANSACTION_ABORTED: 'TRANSACTION_ABORTED',
  TRANSACTION_BUSY: 'TRANSACTION_BUSY',
  UOW_NOT_ACTIVE: 'UOW_NOT_ACTIVE',
  UOW_ALREADY_BEGUN: 'UOW_ALREADY_BEGUN',
  UOW_FINISHED: 'UOW_FINISHED',
  UOW_ABANDONED: 'UOW_ABANDONED',
  REPOSITORY_NOT_FOUND: 'REPOSITORY_NOT_FOUND',
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  MIGRATION_CHECKSUM_MISMATCH: 'MIGRATION_CHECKSUM_MISMATCH',
  MIGRATION_LOCK_TIMEOUT: 'MIGRATION_LOCK_TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

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

/** The class of each code that has one, for the narrowing of {@link isPersistenceError}. */
export interface PersistenceErrorsByCode {
  INVALID_OPTION: InvalidOptionError;
  INVALID_ARGUMENT: InvalidOptionError;
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
