import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createSchema, pgDriver } from '../test/databases.js';
import { isPersistenceError } from './errors.js';
import type { PgDriver } from './pg/index.js';
import { TransactionManager } from './transaction-manager.js';

/** Resolves once `count` callers have arrived. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived === count) open();
    return opened;
  };
}

describe('transactions on real Postgres under failure', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let driver: PgDriver;
  let manager: TransactionManager;

  beforeAll(async () => {
    schema = await createSchema('pg_failures');
    driver = await pgDriver(schema.schema, { poolSize: 4 });
    manager = new TransactionManager(driver, { retryInitialDelayMs: 5, retryMaxDelayMs: 50, acquireTimeoutMs: 60_000 });
    await driver.execute(
      'CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL); INSERT INTO counters VALUES (1, 0), (2, 0);',
    );
  });

  afterAll(async () => {
    await manager.close();
    await driver.close();
    await schema.drop();
  });

  it('converges two conflicting SERIALIZABLE transactions by retrying, with no lost update', async () => {
    const firstAttemptsMet = barrier(2);
    const attempts: number[] = [];
    const increment = () =>
      manager.withTransaction(
        async (tx) => {
          attempts.push(tx.attempt);
          const { rows } = await tx.query<{ value: number }>('SELECT value FROM counters WHERE id = 1');
          // Both first attempts read before either writes: a read/write conflict is certain.
          if (tx.attempt === 1) await firstAttemptsMet();
          await tx.query('UPDATE counters SET value = $1 WHERE id = 1', [rows[0]!.value + 1]);
        },
        { isolationLevel: 'serializable', retries: 5 },
      );
    const retried: unknown[] = [];
    const off = manager.on('retry', (event) => retried.push(event.error));
    await Promise.all([increment(), increment()]);
    off();
    expect((await driver.query('SELECT value FROM counters WHERE id = 1')).rows).toEqual([{ value: 2 }]);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(retried.every((error) => isPersistenceError(error, 'SERIALIZATION_FAILURE'))).toBe(true);
    expect(attempts.filter((attempt) => attempt > 1).length).toBeGreaterThanOrEqual(1);
  });

  it('retries the victim of a deadlock and both transfers land', async () => {
    await driver.query('UPDATE counters SET value = 0');
    const locked = barrier(2);
    const move = (first: number, second: number) =>
      manager.withTransaction(async (tx) => {
        await tx.query('UPDATE counters SET value = value + 1 WHERE id = $1', [first]);
        if (tx.attempt === 1) await locked();
        await tx.query('UPDATE counters SET value = value + 1 WHERE id = $1', [second]);
      });
    const codes: string[] = [];
    const off = manager.on('retry', (event) => codes.push((event.error as { code: string }).code));
    await Promise.all([move(1, 2), move(2, 1)]);
    off();
    expect(codes).toContain('DEADLOCK_DETECTED');
    expect((await driver.query('SELECT id, value FROM counters ORDER BY id')).rows).toEqual([
      { id: 1, value: 2 },
      { id: 2, value: 2 },
    ]);
  });

  it('fails fast with ACQUIRE_TIMEOUT when the pool is exhausted, then recovers', async () => {
    const small = await pgDriver(schema.schema, { poolSize: 2 });
    // The holders may wait as long as a busy machine needs to open their connections; only the
    // caller that finds the pool full has the short deadline.
    const patient = new TransactionManager(small, { acquireTimeoutMs: 60_000 });
    const tight = new TransactionManager(small, { acquireTimeoutMs: 200 });
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const holders = [1, 2].map(() => patient.withTransaction(() => gate));
    await expect.poll(() => small.stats().inUse, { timeout: 30_000 }).toBe(2);
    const error = await tight.withTransaction(async () => 'never runs').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ACQUIRE_TIMEOUT', isRetryable: true });
    expect((error as Error).message).toContain('2/2 in use');
    finish();
    await Promise.all(holders);
    await expect(patient.withTransaction(async (tx) => (await tx.query('SELECT 1 AS one')).rows)).resolves.toEqual([
      { one: 1 },
    ]);
    expect(small.leasedConnections).toBe(0);
    await Promise.all([tight.close(), patient.close()]);
    await small.close();
  });

  it('reports a backend killed mid-transaction, releases the connection and carries on', async () => {
    const before = driver.stats().total;
    const error = await manager
      .withTransaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await tx.query('UPDATE counters SET value = 100 WHERE id = 1');
        await admin('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await tx.query('SELECT 1');
      })
      .catch((caught: unknown) => caught);
    expect(isPersistenceError(error, 'CONNECTION_LOST')).toBe(true);
    expect(driver.leasedConnections).toBe(0);
    expect(manager.openTransactions).toBe(0);
    expect(driver.stats().total).toBeLessThanOrEqual(before);
    expect((await driver.query<{ value: number }>('SELECT value FROM counters WHERE id = 1')).rows[0]!.value).not.toBe(
      100,
    );
    await expect(manager.withTransaction(async (tx) => (await tx.query('SELECT 2 AS two')).rows)).resolves.toEqual([
      { two: 2 },
    ]);
  });

  it('cancels a statement past the transaction statement timeout', async () => {
    await expect(
      manager.withTransaction(async (tx) => tx.query('SELECT pg_sleep(2)'), { statementTimeoutMs: 50 }),
    ).rejects.toMatchObject({ code: 'STATEMENT_TIMEOUT', sqlState: '57014' });
    expect(driver.leasedConnections).toBe(0);
  });

  it('refuses new transactions once closed', async () => {
    const other = new TransactionManager(driver);
    await other.close();
    await expect(other.withTransaction(async () => undefined)).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
