import { InvalidOptionError, check } from './errors.js';
import type { IdempotencyBegin, IdempotencyRecord, IdempotencyStore } from './idempotency-store.js';

/** A `pg.Pool`, `Persistence#db` of `@infra/persistence` or anything with `query(sql, params)`. */
export interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface PostgresIdempotencyStoreOptions {
  /** The caller's client; never closed by the store. */
  client: SqlClient;
  /**
   * Table of the keys (optionally schema-qualified), created by {@link PostgresIdempotencyStore.createTable}
   * or by your migrations from {@link idempotencyTableSql}.
   * @default 'idempotency_keys'
   */
  table?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/** The DDL of the keys table, for a migration of your own. */
export function idempotencyTableSql(table = 'idempotency_keys'): string {
  if (!IDENTIFIER.test(table)) throw new InvalidOptionError('table', table, 'a lower-case SQL identifier');
  return (
    `CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, fingerprint text NOT NULL, ` +
    `state text NOT NULL, record jsonb, expires_at timestamptz NOT NULL)`
  );
}

/**
 * Keys in a Postgres table, shared by every instance: an `INSERT … ON CONFLICT DO UPDATE … WHERE`
 * expired claims a key atomically. Expired rows are reused by later claims; `purgeExpired()`
 * deletes the others (run it now and then).
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly client: SqlClient;
  readonly table: string;

  constructor(options: PostgresIdempotencyStoreOptions) {
    check.plainObject('options', options);
    this.client = check.withMethods<SqlClient>('client', options.client, ['query'], 'a client with query()');
    this.table = options.table ?? 'idempotency_keys';
    idempotencyTableSql(this.table);
  }

  /** Creates the table if it does not exist. */
  async createTable(): Promise<void> {
    await this.client.query(idempotencyTableSql(this.table));
  }

  async begin(key: string, fingerprint: string, lockTtlMs: number): Promise<IdempotencyBegin> {
    const claimed = await this.client.query(
      `INSERT INTO ${this.table} AS t (key, fingerprint, state, record, expires_at)
       VALUES ($1, $2, 'in-flight', NULL, now() + $3 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, state = 'in-flight', record = NULL,
         expires_at = EXCLUDED.expires_at
       WHERE t.expires_at <= now()
       RETURNING key`,
      [key, fingerprint, Math.ceil(lockTtlMs)],
    );
    if (claimed.rows.length === 1) return { kind: 'started' };
    const found = await this.client.query(
      `SELECT state, fingerprint, record FROM ${this.table} WHERE key = $1 AND expires_at > now()`,
      [key],
    );
    const row = found.rows[0] as { state: string; fingerprint: string; record: IdempotencyRecord | null } | undefined;
    // Released or expired between the two statements: claim again.
    if (row === undefined) return this.begin(key, fingerprint, lockTtlMs);
    return row.state === 'completed' && row.record !== null
      ? { kind: 'completed', record: row.record }
      : { kind: 'in-flight', fingerprint: row.fingerprint };
  }

  async complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    await this.client.query(
      `UPDATE ${this.table} SET state = 'completed', record = $2::jsonb,
         expires_at = now() + $3 * interval '1 millisecond' WHERE key = $1`,
      [key, JSON.stringify(record), Math.ceil(ttlMs)],
    );
  }

  async release(key: string): Promise<void> {
    await this.client.query(`DELETE FROM ${this.table} WHERE key = $1 AND state = 'in-flight'`, [key]);
  }

  /** Deletes expired keys; returns how many. */
  async purgeExpired(): Promise<number> {
    const result = await this.client.query(`DELETE FROM ${this.table} WHERE expires_at <= now() RETURNING key`);
    return result.rows.length;
  }
}
