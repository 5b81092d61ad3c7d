/** Rows of a query and the number of rows it touched. */
export interface QueryResult<R = Record<string, unknown>> {
  rows: R[];
  /** Rows returned or affected (0 for statements that touch none). */
  rowCount: number;
}

/** Positional parameters for `$1`, `$2`, … */
export type QueryParams = readonly unknown[];

/** Anything SQL can be sent to: a driver, a connection, a transaction, a unit of work's handle. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<R>>;
}

/** One connection leased from a driver; every lease is released exactly once. */
export interface DriverConnection extends Queryable {
  /** Runs a script of one or more statements without parameters (simple query protocol). */
  execute(script: string): Promise<void>;
  /** True once the driver saw the connection fail; it is then discarded on release. */
  readonly broken: boolean;
  /**
   * Gives the connection back. With `discard` (or once `broken`) the driver closes it instead of
   * reusing it. Idempotent.
   */
  release(discard?: boolean): void;
}

/** Options of `close()`. */
export interface CloseOptions {
  /** Longest wait for work in flight (open transactions, leased connections) before it is cut off (ms). */
  timeoutMs?: number;
}

export interface AcquireOptions {
  /** Fails with `ACQUIRE_TIMEOUT` when no connection is free within this many ms. */
  timeoutMs?: number;
}

/** Connection usage, for health checks and metrics. */
export interface PoolStats {
  /** Most connections the driver will open. */
  max: number;
  /** Connections open now. */
  total: number;
  /** Open connections not leased. */
  idle: number;
  /** Connections leased now. */
  inUse: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

export interface DriverCapabilities {
  /**
   * False when the driver has one connection (PGlite): leases are handed out one at a time and
   * transactions are serialized, never interleaved.
   */
  concurrentConnections: boolean;
}

/**
 * What the transaction manager needs from a database. Errors thrown by every method are coded
 * {@link import('./errors.js').PersistenceError}s (`QUERY_FAILED` with `sqlState`,
 * `SERIALIZATION_FAILURE`, `CONNECTION_LOST`, `ACQUIRE_TIMEOUT`, …).
 */
export interface DatabaseDriver extends Queryable {
  /** Short driver name (`pg`, `pglite`). */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** Leases a connection for a transaction or a session-level lock. */
  acquire(options?: AcquireOptions): Promise<DriverConnection>;
  /** Runs a multi-statement script on a leased connection. */
  execute(script: string): Promise<void>;
  stats(): PoolStats;
  /**
   * Closes what the driver created (never an injected pool or database), waiting at most
   * `timeoutMs` for leased connections to come back. Idempotent.
   */
  close(options?: CloseOptions): Promise<void>;
}
