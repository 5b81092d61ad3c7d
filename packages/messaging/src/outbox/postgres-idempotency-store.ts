import type { Queryable } from '@infra/persistence';
import { InvalidOptionError } from '../errors.js';
import type { IdempotencyStore } from '../idempotency.js';
import { plainObject, withMethods } from '../validate.js';

export interface PostgresIdempotencyStoreOptions {
  /** Where queries run: a `Persistence`'s `db`, a transaction, a `pg.Pool`. Never closed by the store. */
  db: Queryable;
  /** Table created by {@link idempotencyMigration}, optionally schema-qualified. @default 'message_idempotency' */
  table?: string;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/i;

function tableName(value: unknown): string {
  if (typeof value !== 'string' || !identifier.test(value))
    throw new InvalidOptionError('table', value, 'a table name, optionally schema-qualified (letters, digits, _)');
  return value;
}

/** The migration that creates the dedupe table of {@link PostgresIdempotencyStore}. */
export function idempotencyMigration(options: { table?: string; id?: string } = {}): { id: string; sql: string } {
  plainObject('options', options);
  const table = tableName(options.table ?? 'message_idempotency');
  return {
    id: options.id ?? '0001_infra_message_idempotency',
    sql: `CREATE TABLE IF NOT EXISTS ${table} (
  key text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('processing', 'done')),
  token text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table.replace('.', '_')}_expires_idx ON ${table} (expires_at);
`,
  };
}

/**
 * Dedupe records in Postgres. A claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE expired`,
 * so two consumers racing for one message cannot both win.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly db: Queryable;
  private readonly table: string;

  constructor(options: PostgresIdempotencyStoreOptions) {
    plainObject('options', options);
    this.db = withMethods<Queryable>('db', options.db, ['query'], 'something with query(sql, params)');
    this.table = tableName(options.table ?? 'message_idempotency');
  }

  async claim(key: string, token: string, leaseMs: number): Promise<'claimed' | 'done' | 'busy'> {
    const { rows } = await this.db.query<{ token: string; state: string }>(
      `INSERT INTO ${this.table} AS t (key, state, token, expires_at)
         VALUES ($1, 'processing', $2, now() + $3::integer * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET state = 'processing', token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
         WHERE t.expires_at <= now()
       RETURNING token`,
      [key, token, leaseMs],
    );
    if (rows.length > 0) return 'claimed';
    const existing = await this.db.query<{ state: string }>(`SELECT state FROM ${this.table} WHERE key = $1`, [key]);
    const state = existing.rows[0]?.state;
    // Expired and removed between the two statements: claim again.
    if (state === undefined) return this.claim(key, token, leaseMs);
    return state === 'done' ? 'done' : 'busy';
  }

  async complete(key: string, token: string, ttlMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.table} (key, state, token, expires_at)
       VALUES ($1, 'done', $2, now() + $3::integer * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET state = 'done', token = EXCLUDED.token, expires_at = EXCLUDED.expires_at`,
      [key, token, ttlMs],
    );
  }

  async release(key: string, token: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.table} WHERE key = $1 AND token = $2 AND state = 'processing'`, [
      key,
      token,
    ]);
  }

  /** Deletes expired records; run it on a schedule. Resolves with how many it deleted. */
  async prune(): Promise<number> {
    const { rowCount } = await this.db.query(`DELETE FROM ${this.table} WHERE expires_at <= now()`);
    return rowCount;
  }
}
