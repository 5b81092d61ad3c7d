import { databaseUrl, uniqueName } from '@infra/test-utils';
import pg from 'pg';
import { createPgDriver, type PgDriver, type PgDriverOptions } from '../src/pg/index.js';
import { createPgliteDriver } from '../src/pglite/index.js';
import type { DatabaseDriver } from '../src/index.js';

/** Runs one statement on the test database outside any pool under test. */
export async function admin<R extends pg.QueryResultRow = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

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

export function pgDriver(schema: string, options: PgDriverOptions = {}): Promise<PgDriver> {
  return createPgDriver({ connectionString: databaseUrl, searchPath: schema, poolSize: 5, ...options });
}

export interface DriverFixture {
  name: 'pg' | 'pglite';
  create: () => Promise<DatabaseDriver>;
  drop: () => Promise<void>;
}

/** The same tests on real Postgres (a schema of their own) and on in-memory PGlite. */
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
    { name: 'pglite', create: () => createPgliteDriver(), drop: () => Promise.resolve() },
  ];
}
