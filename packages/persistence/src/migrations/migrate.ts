import { createHash } from 'node:crypto';
import { sleep } from '@infra/core';
import type { DatabaseDriver, DriverConnection } from '../driver.js';
import { PersistenceError, isPersistenceError } from '../errors.js';
import { integer, plainObject, qualifiedName } from '../validate.js';
import { checksumOf, loadMigrations, sortMigrations, type Migration } from './migration.js';

export interface MigrateOptions {
  /** A directory of `*.sql` files, or the migrations themselves. */
  migrations: string | readonly Migration[];
  /**
   * Table recording applied migrations (optionally schema-qualified; the schema is created). @default
   * 'schema_migrations'
   */
  table?: string;
  /** How long to wait for another instance's migration run to finish (ms). @default 60_000 */
  lockTimeoutMs?: number;
}

export interface MigrationResult {
  /** Ids applied by this run, in order. */
  applied: string[];
  /** Ids that were already applied. */
  skipped: string[];
  /** Ids recorded in the table that are not among the given migrations (applied by a newer release). */
  unknown: string[];
}

interface AppliedRow {
  id: string;
  checksum: string;
}

/**
 * Applies pending migrations in order, each in its own transaction, recording id and checksum.
 * A session-level `pg_advisory_lock` keyed on the table name keeps two instances from migrating
 * at once: the second waits, then finds nothing left to do. A changed applied migration fails
 * with `MIGRATION_CHECKSUM_MISMATCH` before anything runs.
 */
export async function migrate(driver: DatabaseDriver, options: MigrateOptions): Promise<MigrationResult> {
  plainObject('options', options, 'INVALID_ARGUMENT');
  const table = qualifiedName('table', options.table ?? 'schema_migrations');
  const lockTimeoutMs = integer('lockTimeoutMs', options.lockTimeoutMs ?? 60_000);
  const migrations =
    typeof options.migrations === 'string'
      ? await loadMigrations(options.migrations)
      : sortMigrations(options.migrations);

  const connection = await driver.acquire();
  let locked = false;
  try {
    await acquireLock(connection, lockKey(table), lockTimeoutMs);
    locked = true;
    if (table.includes('.'))
      await connection.query(`CREATE SCHEMA IF NOT EXISTS ${table.slice(0, table.indexOf('.'))}`);
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, checksum text NOT NULL, ` +
        'applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL)',
    );
    const { rows } = await connection.query<AppliedRow>(`SELECT id, checksum FROM ${table}`);
    const applied = new Map(rows.map((row) => [row.id, row.checksum]));
    const known = new Set(migrations.map((migration) => migration.id));
    for (const migration of migrations) {
      const recorded = applied.get(migration.id);
      if (recorded !== undefined && recorded !== checksumOf(migration.sql)) {
        throw new PersistenceError(
          'MIGRATION_CHECKSUM_MISMATCH',
          `Migration "${migration.id}" changed after it was applied (recorded checksum ${recorded.slice(0, 12)}…); add a new migration instead`,
        );
      }
    }
    const result: MigrationResult = {
      applied: [],
      skipped: [],
      unknown: [...applied.keys()].filter((id) => !known.has(id)),
    };
    for (const migration of migrations) {
      if (applied.has(migration.id)) {
        result.skipped.push(migration.id);
        continue;
      }
      await applyOne(connection, table, migration);
      result.applied.push(migration.id);
    }
    return result;
  } finally {
    if (locked && !connection.broken) {
      await connection.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey(table)]).catch(() => undefined);
    }
    // A lock still held (unlock failed) dies with the discarded session.
    connection.release(connection.broken);
  }
}

async function applyOne(connection: DriverConnection, table: string, migration: Migration): Promise<void> {
  const started = Date.now();
  try {
    await connection.query('BEGIN');
    await connection.execute(migration.sql);
    await connection.query(`INSERT INTO ${table} (id, checksum, duration_ms) VALUES ($1, $2, $3)`, [
      migration.id,
      checksumOf(migration.sql),
      Date.now() - started,
    ]);
    await connection.query('COMMIT');
  } catch (error) {
    if (!connection.broken) await connection.query('ROLLBACK').catch(() => undefined);
    throw new PersistenceError(
      'MIGRATION_FAILED',
      `Migration "${migration.id}" failed and was rolled back: ${(error as Error).message}`,
      {
        cause: error,
        sqlState: isPersistenceError(error) ? error.sqlState : undefined,
      },
    );
  }
}

async function acquireLock(connection: DriverConnection, key: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const { rows } = await connection.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      key,
    ]);
    if (rows[0]?.locked === true) return;
    if (Date.now() >= deadline) {
      throw new PersistenceError(
        'MIGRATION_LOCK_TIMEOUT',
        `Another instance held the migration lock for more than ${timeoutMs} ms (advisory lock ${key})`,
      );
    }
    await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), Math.max(1, deadline - Date.now())));
  }
}

/** A signed 64-bit advisory lock key derived from the table name. */
export function lockKey(table: string): string {
  const digest = createHash('sha256').update(`@infra/persistence:migrations:${table}`).digest();
  return digest.readBigInt64BE(0).toString();
}
