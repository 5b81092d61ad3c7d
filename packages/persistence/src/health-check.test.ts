import { closedPort } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema, pgDriver } from '../test/databases.js';
import { checkDatabaseHealth } from './health-check.js';
import type { PgDriver } from './pg/index.js';
import { createPgDriver } from './pg/index.js';

describe('checkDatabaseHealth', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let driver: PgDriver;

  beforeAll(async () => {
    schema = await createSchema('health');
    driver = await pgDriver(schema.schema, { poolSize: 2 });
  });

  afterAll(async () => {
    await driver.close();
    await schema.drop();
  });

  it('passes with the round-trip time when the database answers', async () => {
    // However long a busy machine takes to open the connection, this is not a timeout.
    const health = await checkDatabaseHealth(driver, { timeoutMs: 60_000 });
    expect(health).toMatchObject({ status: 'pass', componentId: 'pg', componentType: 'datastore', observedUnit: 'ms' });
    expect(health.observedValue).toBeGreaterThanOrEqual(0);
    expect(health.output).toBeUndefined();
    expect(health.pool).toMatchObject({ max: 2, inUse: 0, waiting: 0, saturation: 0 });
    expect(Date.parse(health.time)).not.toBeNaN();
  });

  it('warns when the pool is saturated', async () => {
    const held = await driver.acquire();
    try {
      const half = await checkDatabaseHealth(driver, { warnSaturation: 0.5, timeoutMs: 60_000 });
      expect(half.status).toBe('warn');
      expect(half.output).toMatch(/Pool saturated: 1\/2/);
      const other = await driver.acquire();
      try {
        const full = await checkDatabaseHealth(driver, { timeoutMs: 100 });
        expect(full.status).toBe('warn');
        expect(full.output).toMatch(/Pool exhausted/);
      } finally {
        other.release();
      }
    } finally {
      held.release();
    }
  });

  it('fails when the database cannot be reached', async () => {
    const unreachable = await createPgDriver({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
      connectTimeoutMs: 300,
    });
    const health = await checkDatabaseHealth(unreachable, { timeoutMs: 1000 });
    await unreachable.close();
    expect(health.status).toBe('fail');
    expect(health.observedValue).toBeUndefined();
    expect(health.output).toMatch(/Database probe failed/);
  });

  it('validates its options', async () => {
    await expect(checkDatabaseHealth(driver, { warnSaturation: 2 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'warnSaturation',
    });
  });
});
