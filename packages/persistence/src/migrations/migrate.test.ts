import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema, pgDriver, sharedPglite } from '../../test/databases.js';
import type { PgDriver } from '../pg/index.js';
import { createPgliteDriver, type PgliteDriver } from '../pglite/index.js';
import { migrate } from './migrate.js';
import type { Migration } from './migration.js';

const base: Migration[] = [
  { id: '10_add_email', sql: 'ALTER TABLE users ADD COLUMN email text;' },
  { id: '2_users', sql: 'CREATE TABLE users (id int PRIMARY KEY);\nINSERT INTO users VALUES (1);' },
];

describe('migrate on real Postgres', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let driver: PgDriver;
  let tables = 0;
  const table = () => `migrations_${++tables}`;

  beforeAll(async () => {
    schema = await createSchema('migrate');
    driver = await pgDriver(schema.schema, { poolSize: 4 });
  });

  afterAll(async () => {
    await driver.close();
    await schema.drop();
  });

  it('applies pending migrations in numeric id order, once', async () => {
    const name = table();
    await expect(migrate(driver, { migrations: base, table: name })).resolves.toEqual({
      applied: ['2_users', '10_add_email'],
      skipped: [],
      unknown: [],
    });
    const extra = [...base, { id: '11_more', sql: "INSERT INTO users (id, email) VALUES (2, 'b@x');" }];
    await expect(migrate(driver, { migrations: extra, table: name })).resolves.toEqual({
      applied: ['11_more'],
      skipped: ['2_users', '10_add_email'],
      unknown: [],
    });
    const { rows } = await driver.query<{ id: string; checksum: string }>(
      `SELECT id, checksum FROM ${name} ORDER BY applied_at`,
    );
    expect(rows.map((row) => row.id)).toEqual(['2_users', '10_add_email', '11_more']);
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.checksum))).toBe(true);
    await driver.query('DROP TABLE users');
  });

  it('refuses to run when an applied migration changed', async () => {
    const name = table();
    await migrate(driver, { migrations: [{ id: '1_t', sql: 'CREATE TABLE changed_t (id int);' }], table: name });
    await expect(
      migrate(driver, {
        migrations: [
          { id: '1_t', sql: 'CREATE TABLE changed_t (id bigint);' },
          { id: '2_x', sql: 'SELECT 1;' },
        ],
        table: name,
      }),
    ).rejects.toMatchObject({ code: 'MIGRATION_CHECKSUM_MISMATCH' });
    expect((await driver.query(`SELECT id FROM ${name}`)).rows).toEqual([{ id: '1_t' }]);
  });

  it('rolls a failing migration back entirely and stops there', async () => {
    const name = table();
    const error = await migrate(driver, {
      table: name,
      migrations: [
        { id: '1_ok', sql: 'CREATE TABLE half_ok (id int);' },
        {
          id: '2_broken',
          sql: 'CREATE TABLE half_broken (id int);\nINSERT INTO half_broken VALUES (1);\nSELECT no_such_column FROM half_broken;',
        },
        { id: '3_never', sql: 'CREATE TABLE never_created (id int);' },
      ],
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'MIGRATION_FAILED', sqlState: '42703' });
    expect((error as Error).message).toContain('2_broken');
    const { rows } = await driver.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('half_ok', 'half_broken', 'never_created')",
    );
    expect(rows).toEqual([{ name: 'half_ok' }]);
    expect((await driver.query(`SELECT id FROM ${name}`)).rows).toEqual([{ id: '1_ok' }]);
    expect(driver.leasedConnections).toBe(0);
  });

  it('lets only one of two concurrent instances migrate; the other finds nothing to do', async () => {
    const name = table();
    const other = await pgDriver(schema.schema, { poolSize: 2 });
    const slow: Migration[] = [
      { id: '1_slow', sql: 'SELECT pg_sleep(0.3); CREATE TABLE raced (id int);' },
      { id: '2_after', sql: 'INSERT INTO raced VALUES (1);' },
    ];
    const results = await Promise.all([
      migrate(driver, { migrations: slow, table: name }),
      migrate(other, { migrations: slow, table: name }),
    ]);
    await other.close();
    const applied = results.map((result) => result.applied);
    expect(applied).toContainEqual(['1_slow', '2_after']);
    expect(applied).toContainEqual([]);
    expect((await driver.query('SELECT count(*)::int AS n FROM raced')).rows).toEqual([{ n: 1 }]);
  });

  it('gives up waiting for the lock with MIGRATION_LOCK_TIMEOUT', async () => {
    const name = table();
    const { migrationLockKey } = await import('../index.js');
    const holder = await driver.acquire();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [migrationLockKey(`"${name}"`)]);
    try {
      await expect(migrate(driver, { migrations: [], table: name, lockTimeoutMs: 100 })).rejects.toMatchObject({
        code: 'MIGRATION_LOCK_TIMEOUT',
      });
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
  });

  it('reads ordered .sql files from a directory, into a schema-qualified table', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'persistence-migrations-'));
    try {
      await writeFile(join(directory, '002_fill.sql'), "INSERT INTO from_files VALUES ('filled');");
      await writeFile(join(directory, '001_create.sql'), 'CREATE TABLE from_files (note text);');
      await writeFile(join(directory, 'README.md'), 'not a migration');
      const qualified = `${schema.schema}_meta.history`;
      await expect(migrate(driver, { migrations: directory, table: qualified })).resolves.toMatchObject({
        applied: ['001_create', '002_fill'],
      });
      expect((await driver.query('SELECT note FROM from_files')).rows).toEqual([{ note: 'filled' }]);
    } finally {
      await driver.query(`DROP SCHEMA IF EXISTS ${schema.schema}_meta CASCADE`);
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('validates its input', async () => {
    await expect(
      migrate(driver, {
        migrations: [
          { id: 'a', sql: '' },
          { id: 'a', sql: '' },
        ],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(migrate(driver, { migrations: base, table: 'bad name' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'table',
    });
    await expect(migrate(driver, { migrations: '/no/such/dir' })).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
  });
});

describe('migrate on PGlite', () => {
  let driver: PgliteDriver;

  beforeAll(async () => {
    driver = await createPgliteDriver({ db: await sharedPglite() });
  });

  afterAll(() => driver.close());

  it('applies the same migrations', async () => {
    await expect(migrate(driver, { migrations: base })).resolves.toMatchObject({
      applied: ['2_users', '10_add_email'],
    });
    await expect(migrate(driver, { migrations: base })).resolves.toMatchObject({
      applied: [],
      skipped: ['2_users', '10_add_email'],
    });
    expect((await driver.query('SELECT id, email FROM users')).rows).toEqual([{ id: 1, email: null }]);
  });
});
