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

const marker = Symbol.for('@infra/persistence.error');

export interface PersistenceErrorInit {
  cause?: unknown;
  isRetryable?: boolean;
  /** Five-character SQLSTATE reported by the server, when the error came from it. */
  sqlState?: string | undefined;
}

/** Base class of every error this package throws. */
export class PersistenceError extends Error {
  readonly code: ErrorCode;
  readonly isRetryable: boolean;
  /** SQLSTATE of the server error behind this one (`40001`, `23505`, …), if any. */
  readonly sqlState: string | undefined;

  constructor(code: ErrorCode, message: string, init: PersistenceErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PersistenceError';
    this.code = code;
    this.isRetryable = init.isRetryable ?? false;
    this.sqlState = init.sqlState;
  }

  /** True for any error created by any copy of @infra/persistence. */
  static isInstance(error: unknown): error is PersistenceError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(PersistenceError.prototype, marker, { value: true });

/** True when `error` comes from @infra/persistence (any installed copy), optionally with the given code. */
export function isPersistenceError<C extends ErrorCode>(
  error: unknown,
  code?: C,
): error is PersistenceError & { code: C } {
  return PersistenceError.isInstance(error) && (code === undefined || error.code === code);
}

/** Thrown when an option is out of range or of the wrong type. */
export class InvalidOptionError extends PersistenceError {
  readonly option: string;
  readonly value: unknown;

  constructor(
    option: string,
    value: unknown,
    expected: string,
    code: 'INVALID_OPTION' | 'INVALID_ARGUMENT' = 'INVALID_OPTION',
  ) {
    super(
      code,
      `Invalid ${code === 'INVALID_OPTION' ? 'option' : 'argument'} "${option}": expected ${expected}, got ${describe(value)}`,
    );
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
  }
}

/** Thrown when an optional peer dependency is needed but not installed. */
export function missingPeer(pkg: string, what: string, cause: unknown): PersistenceError {
  return new PersistenceError(
    'MISSING_PEER',
    `${what} needs the optional peer dependency "${pkg}": install it with \`npm install ${pkg}\``,
    { cause },
  );
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
}

/** Follows `cause` links (a few levels) looking for a persistence error with one of `codes`. */
export function findErrorCode(error: unknown, codes: readonly ErrorCode[]): ErrorCode | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current != null; depth++) {
    if (PersistenceError.isInstance(current) && codes.includes(current.code)) return current.code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function toErrorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
