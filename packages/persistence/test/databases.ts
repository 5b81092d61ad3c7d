import { readFile } from 'node:fs/promises';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { adminQuery, databaseUrl, uniqueName } from '@infra/test-utils';
import { afterAll, inject } from 'vitest';
import { createPgDriver, type PgDriver, type PgDriverOptions } from '../src/pg/index.js';
import { createPgliteDriver } from '../src/pglite/index.js';
import type { DatabaseDriver } from '../src/index.js';

/** Runs one statement on the test database outside any pool under test. */
export const admin: typeof adminQuery = adminQuery;

/**
 * A new PGlite database started from the run's template (see global-setup.ts) rather than by
 * initdb: about a second instead of several on a busy machine.
 */
export async function pgliteFromTemplate(options: PGliteOptions = {}): Promise<PGlite> {
  const template = await readFile(inject('pgliteTemplate'));
  return PGlite.create({ ...options, loadDataDir: new Blob([template]) });
}

let shared: Promise<PGlite> | undefined;

/**
 * The PGlite database of this test file, made once and shared by its suites (each cleans up with
 * `resetPglite`); closed after the file's last test.
 */
export function sharedPglite(): Promise<PGlite> {
  shared ??= pgliteFromTemplate();
  return shared;
}

/** Drops everything the tests created in the shared database. */
export async function resetPglite(db: PGlite): Promise<void> {
  await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
}

afterAll(async () => {
  const db = await shared;
  shared = undefined;
  await db?.close();
});

/** A Postgres schema of this test file's own; `drop()` removes it with everything in it. */
export async function createSchema(label: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = uniqueName(label);
  await admin(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    drop: async () => {
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/**
 * A pg driver on `schema` of the test database. Connect and acquire deadlines are generous: a busy
 * machine may take seconds to open a connection, and only a test's own short deadlines may expire.
 */
export function pgDriver(schema: string, options: PgDriverOptions = {}): Promise<PgDriver> {
  return createPgDriver({
    connectionString: databaseUrl,
    searchPath: schema,
    poolSize: 5,
    connectTimeoutMs: 30_000,
    acquireTimeoutMs: 60_000,
    ...options,
  });
}

export interface DriverFixture {
  name: 'pg' | 'pglite';
  create: () => Promise<DatabaseDriver>;
  drop: () => Promise<void>;
}

/** The same tests on real Postgres (a schema of their own) and on in-memory PGlite (the file's shared one). */
export function driverFixtures(label: string): DriverFixture[] {
  let schema: { schema: string; drop: () => Promise<void> } | undefined;
  return [
    {
      name: 'pg',
      create: async () => {
        schema ??= await createSchema(label);
        return pgDriver(schema.schema);
      },
      drop: async () => {
        await schema?.drop();
        schema = undefined;
      },
    },
    {
      name: 'pglite',
      // On the file's shared database: the driver never closes an injected one.
      create: async () => createPgliteDriver({ db: await sharedPglite() }),
      drop: async () => {
        await resetPglite(await sharedPglite());
      },
    },
  ];
}
