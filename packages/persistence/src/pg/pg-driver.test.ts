import { databaseDriverContract } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createSchema, pgDriver } from '../../test/databases.js';
import { createPgDriver } from './index.js';

const schema = await createSchema('pg_driver');
afterAll(() => schema.drop());

databaseDriverContract({ name: 'pg', create: () => pgDriver(schema.schema, { poolSize: 3 }) });

describe('createPgDriver', () => {
  it('validates its options, naming the bad one', async () => {
    await expect(createPgDriver({ connectionString: 'x', poolSize: 0 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'poolSize',
    });
    await expect(createPgDriver({ connectionString: 'postgres://h/db', searchPath: 'a; DROP' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(createPgDriver({ pool: {} as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('never closes an injected pool', async () => {
    const owned = await pgDriver(schema.schema);
    const injected = await createPgDriver({ pool: owned.pool });
    await injected.close();
    expect((await owned.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await owned.close();
  });

  it('ends its pool on close, discarding the leases still out at the deadline', async () => {
    const driver = await pgDriver(schema.schema, { poolSize: 2 });
    const lease = await driver.acquire();
    await driver.close({ timeoutMs: 0 });
    expect(driver.leasedConnections).toBe(0);
    expect(driver.pool.ended).toBe(true);
    await expect(lease.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(driver.acquire()).rejects.toMatchObject({ code: 'CLOSED' });
    await driver[Symbol.asyncDispose]();
    await expect(driver.close({ timeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'timeoutMs',
    });
  });

  it('reports a refused connection as CONNECTION_FAILED', async () => {
    const { closedPort } = await import('@infra/test-utils');
    const driver = await createPgDriver({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
      connectTimeoutMs: 500,
    });
    await expect(driver.query('SELECT 1')).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    await driver.close();
  });
});
