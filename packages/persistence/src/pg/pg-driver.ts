import { EventHub, errorMessage } from '@infra/core';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import type {
  AcquireOptions,
  CloseOptions,
  DatabaseDriver,
  DriverCapabilities,
  DriverConnection,
  PoolStats,
  QueryParams,
  QueryResult,
} from '../driver.js';
import { DriverClose, acquireTimeoutOf, withLease } from '../driver-support.js';
import { PersistenceError, isPersistenceError } from '../errors.js';
import { integer, nonEmptyString, plainObject } from '../validate.js';
import type { PgPoolOptions } from '../pool-options.js';
import { loadPg } from './load-pg.js';
import { PgConnection } from './pg-connection.js';

export interface PgDriverOptions extends PgPoolOptions {
  /** An existing pool to use. It is never closed by the driver. @default a pool the driver creates (and closes) */
  pool?: Pool;
  /** Connection string of the pool the driver creates. @default process.env.DATABASE_URL */
  connectionString?: string | undefined;
  /** `application_name` shown in `pg_stat_activity`. @default '@infra/persistence' */
  applicationName?: string;
  /** Further node-postgres pool settings, applied before the options above. @default {} */
  poolConfig?: PoolConfig;
}

export interface PgDriverEvents {
  /** An idle connection of the created pool failed (it is removed from the pool). */
  error: { error: unknown };
}

/** {@link DatabaseDriver} on a node-postgres `Pool`. Create it with {@link createPgDriver}. */
export class PgDriver implements DatabaseDriver {
  readonly name = 'pg';
  readonly capabilities: DriverCapabilities = { concurrentConnections: true };
  private readonly events = new EventHub<PgDriverEvents>();
  private readonly leases = new Set<PgConnection>();
  private readonly closing: DriverClose;

  constructor(
    readonly pool: Pool,
    owned: boolean,
    private readonly acquireTimeoutMs: number,
    private readonly max: number,
  ) {
    this.closing = new DriverClose(owned, (timeoutMs) => this.end(timeoutMs));
    if (owned) {
      pool.on('error', (error) => {
        this.events.emit('error', { error });
      });
    }
  }

  on<K extends keyof PgDriverEvents>(event: K, listener: (payload: PgDriverEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  async acquire(options: AcquireOptions = {}): Promise<DriverConnection> {
    if (this.closing.closed) throw new PersistenceError('CLOSED', 'The pg driver is closed');
    const timeoutMs = acquireTimeoutOf(options, this.acquireTimeoutMs);
    const connecting = this.pool.connect();
    let timer: NodeJS.Timeout | undefined;
    let client: PoolClient;
    try {
      client = await Promise.race([
        connecting,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            reject(this.timeoutError(timeoutMs));
          }, timeoutMs);
          timer.unref();
        }),
      ]);
    } catch (error) {
      // A connection that arrives after we gave up goes straight back to the pool.
      connecting.then(
        (late) => {
          late.release();
        },
        () => undefined,
      );
      throw this.acquireError(error, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    const connection: PgConnection = new PgConnection(client, () => {
      this.leases.delete(connection);
    });
    this.leases.add(connection);
    return connection;
  }

  query<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<R>> {
    return withLease(this, (connection) => connection.query<R>(sql, params));
  }

  execute(script: string): Promise<void> {
    return withLease(this, (connection) => connection.execute(script));
  }

  stats(): PoolStats {
    const total = this.pool.totalCount;
    const idle = this.pool.idleCount;
    return { max: this.max, total, idle, inUse: Math.max(0, total - idle), waiting: this.pool.waitingCount };
  }

  /** Number of connections leased through this driver and not yet released. */
  get leasedConnections(): number {
    return this.leases.size;
  }

  /**
   * Refuses new leases; a pool the driver created is ended once its leased connections come back,
   * and those still out after `timeoutMs` (default 5000) are discarded. An injected pool is left
   * as it is. Idempotent.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    await this.closing.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async end(timeoutMs: number): Promise<void> {
    const ended = this.pool.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'late');
    });
    if ((await Promise.race([ended, late])) === 'late') {
      // The pool ends only once every client is back: discard the leases still out.
      for (const lease of [...this.leases]) lease.release(true);
      await ended;
    }
    clearTimeout(timer);
  }

  private timeoutError(timeoutMs: number): PersistenceError {
    const { inUse, max, waiting } = this.stats();
    return new PersistenceError(
      'ACQUIRE_TIMEOUT',
      `No database connection within ${timeoutMs} ms (pool: ${inUse}/${max} in use, ${waiting} waiting)`,
      { isRetryable: true },
    );
  }

  private acquireError(error: unknown, timeoutMs: number): PersistenceError {
    if (isPersistenceError(error)) return error;
    const message = errorMessage(error);
    // pg's own queue timeout: a full pool is exhaustion, otherwise connecting took too long.
    if (/timeout exceeded when trying to connect/i.test(message)) {
      const stats = this.stats();
      if (stats.inUse >= stats.max) return this.timeoutError(timeoutMs);
    }
    return new PersistenceError('CONNECTION_FAILED', `Could not connect to Postgres: ${message}`, {
      cause: error,
      isRetryable: true,
    });
  }
}

/**
 * Creates a {@link PgDriver}: on `options.pool` (never closed by the driver), or on a pool it
 * creates from `connectionString` / `DATABASE_URL` and closes on `close()`.
 */
export async function createPgDriver(options: PgDriverOptions = {}): Promise<PgDriver> {
  plainObject('options', options, 'INVALID_ARGUMENT');
  const acquireTimeoutMs = integer('acquireTimeoutMs', options.acquireTimeoutMs ?? 10_000, 1);
  if (options.pool !== undefined) {
    const pool = options.pool as Partial<Pool> | null;
    if (typeof pool !== 'object' || pool === null || typeof pool.connect !== 'function') {
      throw new PersistenceError('INVALID_OPTION', 'Invalid option "pool": expected a pg Pool');
    }
    const max = (options.pool as { options?: { max?: number } }).options?.max ?? 10;
    return new PgDriver(options.pool, false, acquireTimeoutMs, max);
  }
  const config = resolvePoolConfig(options);
  const { Pool, Client } = await loadPg('createPgDriver');
  // pg applies connectionTimeoutMillis both to opening a connection and to waiting in the pool's
  // queue; the queue wait is ours (acquireTimeoutMs), so the connect timeout goes to the client only.
  const connectTimeoutMs = config.connectionTimeoutMillis;
  class TimedClient extends Client {
    constructor(clientConfig: PoolConfig = {}) {
      super({ ...clientConfig, connectionTimeoutMillis: connectTimeoutMs });
    }
  }
  return new PgDriver(
    new Pool({ ...config, connectionTimeoutMillis: 0, Client: TimedClient }),
    true,
    acquireTimeoutMs,
    config.max ?? 10,
  );
}

/** The node-postgres pool settings that `options` stand for (validated). */
export function resolvePoolConfig(options: PgDriverOptions): PoolConfig {
  const connectionString = options.connectionString ?? process.env.DATABASE_URL;
  if (connectionString === undefined && options.poolConfig?.host === undefined) {
    throw new PersistenceError(
      'INVALID_OPTION',
      'Invalid option "connectionString": none given and DATABASE_URL is not set (or pass "pool")',
    );
  }
  const config: PoolConfig = { ...(options.poolConfig ?? {}) };
  if (connectionString !== undefined) config.connectionString = nonEmptyString('connectionString', connectionString);
  config.max = integer('poolSize', options.poolSize ?? options.poolConfig?.max ?? 10, 1);
  config.connectionTimeoutMillis = integer('connectTimeoutMs', options.connectTimeoutMs ?? 5000, 1);
  config.idleTimeoutMillis = integer('idleTimeoutMs', options.idleTimeoutMs ?? 30_000);
  const statementTimeout = integer('statementTimeoutMs', options.statementTimeoutMs ?? 0);
  if (statementTimeout > 0) config.statement_timeout = statementTimeout;
  const idleInTransaction = integer('idleInTransactionTimeoutMs', options.idleInTransactionTimeoutMs ?? 60_000);
  if (idleInTransaction > 0) config.idle_in_transaction_session_timeout = idleInTransaction;
  const queryTimeout = integer('queryTimeoutMs', options.queryTimeoutMs ?? 0);
  if (queryTimeout > 0) config.query_timeout = queryTimeout;
  config.application_name = nonEmptyString('applicationName', options.applicationName ?? '@infra/persistence');
  if (options.searchPath !== undefined) {
    const searchPath = nonEmptyString('searchPath', options.searchPath);
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*$/.test(searchPath)) {
      throw new PersistenceError(
        'INVALID_OPTION',
        `Invalid option "searchPath": expected schema names separated by commas, got "${searchPath}"`,
      );
    }
    config.options = `-c search_path=${searchPath.replace(/\s+/g, '')}`;
  }
  // Idle pooled sockets must not keep the process alive.
  config.allowExitOnIdle ??= true;
  return config;
}
