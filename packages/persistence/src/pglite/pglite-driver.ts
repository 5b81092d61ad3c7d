import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import { loadOptionalPeer } from '@infra/core';
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
import { toPersistenceError } from '../driver-errors.js';
import { PersistenceError, missingPeer } from '../errors.js';
import { Mutex } from '../mutex.js';
import { checkQuery, integer, nonEmptyString, plainObject } from '../validate.js';
import { type QueryTarget, withQuerySpan } from '../telemetry.js';

export interface PgliteDriverOptions {
  /** An existing PGlite database to use. It is never closed by the driver. @default a database the driver creates */
  db?: PGlite;
  /** Where the created database keeps its files. @default in memory (nothing kept) */
  dataDir?: string;
  /** Time a caller waits for the single connection before `ACQUIRE_TIMEOUT` (ms). @default 10_000 */
  acquireTimeoutMs?: number;
  /** Further PGlite options of the created database (extensions, debug, …). @default {} */
  pgliteOptions?: PGliteOptions;
}

// In-process: no server address, and the database name would take a query to learn.
const pgliteTarget: QueryTarget = {};

/** One lease of the database; only one exists at a time. */
class PgliteConnection implements DriverConnection {
  readonly broken = false;
  private released = false;

  constructor(
    private readonly db: PGlite,
    private readonly unlock: () => void,
  ) {}

  async query<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<R>> {
    checkQuery(sql, params);
    this.assertUsable();
    return withQuerySpan(pgliteTarget, sql, params, async () => {
      try {
        const result = await this.db.query<R>(sql, params as unknown[] | undefined);
        return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
      } catch (error) {
        throw toPersistenceError(error);
      }
    });
  }

  async execute(script: string): Promise<void> {
    checkQuery(script, undefined);
    this.assertUsable();
    await withQuerySpan(pgliteTarget, script, undefined, async () => {
      try {
        await this.db.exec(script);
      } catch (error) {
        throw toPersistenceError(error);
      }
    });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // The next lease must not inherit a transaction this one left open.
    if (!this.db.closed && this.db.isInTransaction()) {
      this.db.query('ROLLBACK').then(this.unlock, this.unlock);
    } else {
      this.unlock();
    }
  }

  private assertUsable(): void {
    if (this.released) throw new PersistenceError('CLOSED', 'This connection was released; lease a new one');
  }
}

/**
 * {@link DatabaseDriver} on PGlite (Postgres compiled to WebAssembly, in-process). PGlite has one
 * connection, so leases are handed out one at a time: transactions are serialized, never interleaved.
 */
export class PgliteDriver implements DatabaseDriver {
  readonly name = 'pglite';
  readonly capabilities: DriverCapabilities = { concurrentConnections: false };
  private readonly lock = new Mutex();
  private readonly closing: DriverClose;

  constructor(
    readonly db: PGlite,
    owned: boolean,
    private readonly acquireTimeoutMs: number,
  ) {
    this.closing = new DriverClose(
      owned,
      (timeoutMs) => this.closeOwned(timeoutMs),
      () => {
        this.lock.rejectWaiters(
          new PersistenceError('CLOSED', 'The PGlite driver closed while waiting for the connection'),
        );
      },
    );
  }

  async acquire(options: AcquireOptions = {}): Promise<DriverConnection> {
    if (this.closing.closed) throw new PersistenceError('CLOSED', 'The PGlite driver is closed');
    const timeoutMs = acquireTimeoutOf(options, this.acquireTimeoutMs);
    const unlock = await this.lock.acquire(
      timeoutMs,
      () =>
        new PersistenceError(
          'ACQUIRE_TIMEOUT',
          `No database connection within ${timeoutMs} ms (PGlite has one connection; ${this.lock.waiting} waiting)`,
          { isRetryable: true },
        ),
    );
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run while we wait
    if (this.closing.closed) {
      unlock();
      throw new PersistenceError('CLOSED', 'The PGlite driver is closed');
    }
    return new PgliteConnection(this.db, unlock);
  }

  query<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<R>> {
    return withLease(this, (connection) => connection.query<R>(sql, params));
  }

  execute(script: string): Promise<void> {
    return withLease(this, (connection) => connection.execute(script));
  }

  stats(): PoolStats {
    const inUse = this.lock.locked ? 1 : 0;
    return { max: 1, total: 1, idle: 1 - inUse, inUse, waiting: this.lock.waiting };
  }

  /**
   * Refuses new leases and fails the callers waiting for one; a database the driver created is
   * closed once the current lease is released, or after `timeoutMs` (default 5000) if it is not.
   * An injected database is left open. Idempotent.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    await this.closing.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async closeOwned(timeoutMs: number): Promise<void> {
    // Let the current lease finish before the database goes away under it.
    const unlock = await this.lock.acquire(timeoutMs).catch(() => undefined);
    try {
      if (!this.db.closed) await this.db.close();
    } finally {
      unlock?.();
    }
  }
}

/** Creates a {@link PgliteDriver} on `options.db`, or on a new database (in memory or in `dataDir`). */
export async function createPgliteDriver(options: PgliteDriverOptions = {}): Promise<PgliteDriver> {
  plainObject('options', options, 'INVALID_ARGUMENT');
  const acquireTimeoutMs = integer('acquireTimeoutMs', options.acquireTimeoutMs ?? 10_000, 1);
  if (options.db !== undefined) {
    const db = options.db as Partial<PGlite> | null;
    if (typeof db !== 'object' || db === null || typeof db.query !== 'function' || typeof db.exec !== 'function') {
      throw new PersistenceError('INVALID_OPTION', 'Invalid option "db": expected a PGlite instance');
    }
    return new PgliteDriver(options.db, false, acquireTimeoutMs);
  }
  const dataDir = options.dataDir === undefined ? undefined : nonEmptyString('dataDir', options.dataDir);
  const mod = await loadOptionalPeer(
    '@electric-sql/pglite',
    'createPgliteDriver',
    () => import('@electric-sql/pglite'),
    missingPeer,
  );
  const db = await mod.PGlite.create({
    ...(options.pgliteOptions ?? {}),
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  return new PgliteDriver(db, true, acquireTimeoutMs);
}
