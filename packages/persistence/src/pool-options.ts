/**
 * Settings of a node-postgres pool created for you: options of both `createPgDriver` and
 * `persistenceOptions` (which passes them on when it creates the pg driver).
 */
export interface PgPoolOptions {
  /** Largest number of pooled connections. @default 10 */
  poolSize?: number;
  /** Time allowed to open a new connection (ms). @default 5000 */
  connectTimeoutMs?: number;
  /** Time a caller (a transaction) waits for a free connection before `ACQUIRE_TIMEOUT` (ms). @default 10_000 */
  acquireTimeoutMs?: number;
  /** Idle pooled connections close after this long (ms). @default 30_000 */
  idleTimeoutMs?: number;
  /** Server-side `statement_timeout` of every connection (ms; 0 disables). @default 0 */
  statementTimeoutMs?: number;
  /**
   * Server-side `idle_in_transaction_session_timeout` of every connection (ms; 0 disables): the
   * server ends sessions that leave a transaction open and idle, releasing its locks. @default 60_000
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * Client-side bound on every query (ms; 0 disables), node-postgres' `query_timeout`: a query with
   * no answer by then fails with `CONNECTION_LOST` (retryable) and its connection is discarded.
   * Unlike `statementTimeoutMs`, it holds when the network stalls and the server never hears of it.
   * @default 0
   */
  queryTimeoutMs?: number;
  /** `search_path` of every connection (a schema per tenant or per test file). @default the server's */
  searchPath?: string;
}
