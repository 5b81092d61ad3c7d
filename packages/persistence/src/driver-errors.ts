import { PersistenceError, isPersistenceError } from './errors.js';

const SQLSTATE = /^[0-9A-Z]{5}$/;

// Messages node-postgres uses when the socket is gone, or when a query passed `query_timeout` (the
// connection is then out of step with the server); they carry no SQLSTATE.
const LOST_CONNECTION =
  /Query read timeout|Connection terminated|connection error and is not queryable|Client was closed|ECONNRESET|EPIPE|socket hang up|Connection ended|not connected/i;

/** SQLSTATE of a server error (`error.code` in both pg and PGlite), if it has one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/**
 * Turns whatever a driver threw into a coded {@link PersistenceError}, keeping the original as
 * `cause` and its SQLSTATE as `sqlState`. Errors that already carry a code pass through.
 */
export function toPersistenceError(error: unknown): PersistenceError {
  if (isPersistenceError(error)) return error;
  const sqlState = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (sqlState === '40001') {
    return new PersistenceError('SERIALIZATION_FAILURE', `Serialization failure (40001): ${message}`, {
      cause: error,
      sqlState,
      isRetryable: true,
    });
  }
  if (sqlState === '40P01') {
    return new PersistenceError('DEADLOCK_DETECTED', `Deadlock detected (40P01): ${message}`, {
      cause: error,
      sqlState,
      isRetryable: true,
    });
  }
  if (sqlState === '57014') {
    return new PersistenceError('STATEMENT_TIMEOUT', `Statement cancelled (57014): ${message}`, {
      cause: error,
      sqlState,
    });
  }
  // 57P01-57P03: the server shut the session down; class 08: connection exception;
  // 25P03: idle-in-transaction timeout, after which the server closes the session.
  if (
    (sqlState !== undefined && (sqlState.startsWith('57P') || sqlState.startsWith('08') || sqlState === '25P03')) ||
    (sqlState === undefined && LOST_CONNECTION.test(message))
  ) {
    return new PersistenceError('CONNECTION_LOST', `Database connection lost: ${message}`, {
      cause: error,
      sqlState,
      isRetryable: true,
    });
  }
  return new PersistenceError(
    'QUERY_FAILED',
    sqlState === undefined ? `Query failed: ${message}` : `Query failed (${sqlState}): ${message}`,
    { cause: error, sqlState },
  );
}
