import { loadOptionalPeer } from '@infra/core';
import type { ClientConfig, Pool, PoolClient } from 'pg';
import { InvalidOptionError, MessagingError } from '../errors.js';

type PgModule = typeof import('pg');

export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything the adapter's statements can run on: a pool, a leased connection, a caller's transaction. */
export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
}

/** One connection in a transaction: statements, and scripts of several statements without parameters. */
export interface SqlConnection extends Sql {
  execute(script: string): Promise<void>;
}

/** A connection leased from `@infra/persistence`'s driver. */
interface LeasedConnection extends SqlConnection {
  readonly broken: boolean;
  release(discard?: boolean): void;
}

/**
 * The part of an `@infra/persistence` `Persistence` the adapter uses (a structural type: the
 * adapter never loads `@infra/persistence` itself).
 */
export interface PersistenceLike {
  start(): Promise<{ driver: { name: string; query: Sql['query']; acquire(): Promise<LeasedConnection> } }>;
  currentTransaction(): Sql | undefined;
}

/** Where the adapter's statements go, and how its listening connection is opened. */
export interface PostgresDb extends Sql {
  /** Runs `fn` in a transaction on one connection; rolls back when it throws. */
  transaction<T>(fn: (sql: SqlConnection) => Promise<T>): Promise<T>;
  /** Settings of the dedicated LISTEN connection. */
  readonly listenConfig: ClientConfig;
  readonly Client: PgModule['Client'];
  /** Ends the pool when the adapter created it; never an injected persistence's. */
  end(timeoutMs: number): Promise<void>;
}

const OWNER = 'The Postgres messaging adapter';

export async function loadPg(): Promise<Pick<PgModule, 'Pool' | 'Client'>> {
  const mod = await loadOptionalPeer(
    'pg',
    OWNER,
    () => import('pg'),
    (message, cause) => new MessagingError('MISSING_PEER', message, { cause }),
  );
  // Releases before the ESM wrapper expose the classes only on the CommonJS default export.
  return (mod as Partial<PgModule>).Pool ? mod : (mod as unknown as { default: PgModule }).default;
}

export interface OwnedPoolSettings {
  connectionString: string;
  applicationName: string;
  poolSize: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  onError: (error: Error) => void;
}

/** A pool the adapter creates from a connection string, and ends on close. */
export async function ownedPool(settings: OwnedPoolSettings): Promise<PostgresDb> {
  const { Pool, Client } = await loadPg();
  const listenConfig: ClientConfig = {
    connectionString: settings.connectionString,
    application_name: settings.applicationName,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    keepAlive: true,
  };
  const pool: Pool = new Pool({
    ...listenConfig,
    max: settings.poolSize,
    // Client-side bound: a stalled connection fails its query and is dropped from the pool.
    query_timeout: settings.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  });
  pool.on('error', settings.onError);
  return {
    listenConfig,
    Client,
    async query<R>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>> {
      const result = await pool.query(text, params as unknown[] | undefined);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
    async transaction<T>(fn: (sql: SqlConnection) => Promise<T>): Promise<T> {
      const client: PoolClient = await pool.connect();
      const sql: SqlConnection = {
        async query<R>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>> {
          const result = await client.query(text, params as unknown[] | undefined);
          return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
        },
        async execute(script: string): Promise<void> {
          await client.query(script);
        },
      };
      try {
        await client.query('BEGIN');
        const value = await fn(sql);
        await client.query('COMMIT');
        client.release();
        return value;
      } catch (error) {
        // Dropped rather than reused (the failure may have been the connection itself, with a
        // statement still running on it): Postgres rolls back when the connection closes.
        client.release(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
    },
    async end(timeoutMs: number): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        pool.end().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

/**
 * Statements go through the persistence's driver (never its ambient transaction: a publish or a
 * fetch is not part of the caller's work); the LISTEN connection is opened with the settings of
 * its pg pool, or with `connectionString` when given.
 */
export async function persistenceDb(
  persistence: PersistenceLike,
  connectionString: string | undefined,
  applicationName: string | undefined,
): Promise<PostgresDb> {
  const { Client } = await loadPg();
  const { driver } = await persistence.start();
  const pool = (driver as { pool?: Pool }).pool;
  if (driver.name !== 'pg' || (pool === undefined && connectionString === undefined)) {
    throw new InvalidOptionError(
      'persistence',
      `a persistence on the ${driver.name} driver`,
      'a Persistence on Postgres through the pg driver (PGlite has no LISTEN/NOTIFY across processes)',
    );
  }
  const base: ClientConfig = connectionString === undefined ? { ...(pool?.options ?? {}) } : { connectionString };
  const listenConfig: ClientConfig = { ...base, keepAlive: true };
  if (applicationName !== undefined) listenConfig.application_name = applicationName;
  return {
    listenConfig,
    Client,
    query: (text, params) => driver.query(text, params ?? []),
    async transaction<T>(fn: (sql: SqlConnection) => Promise<T>): Promise<T> {
      const connection = await driver.acquire();
      try {
        await connection.query('BEGIN');
        const value = await fn({
          query: (text, params) => connection.query(text, params ?? []),
          execute: (script) => connection.execute(script),
        });
        await connection.query('COMMIT');
        connection.release();
        return value;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        connection.release(true);
        throw error;
      }
    },
    end: () => Promise.resolve(),
  };
}
