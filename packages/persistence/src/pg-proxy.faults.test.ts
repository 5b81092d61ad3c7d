import {
  databaseUrl,
  startTcpProxy,
  terminateBackends,
  uniqueName,
  withApplicationName,
  type TcpProxy,
} from '@infra/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admin, createSchema } from '../test/databases.js';
import { isPersistenceError } from './errors.js';
import { createPgDriver, type PgDriver } from './pg/index.js';
import { TransactionManager } from './transaction-manager.js';

/**
 * Postgres behind a TCP proxy of the test's own: connections cut or stalled in the middle of a
 * transaction, and backends terminated. The caller gets a coded, retryable error within the
 * configured bounds; nothing is half-committed; the pool carries on once the network is back.
 */

const queryTimeoutMs = 1_500;
const connectTimeoutMs = 2_000;
/** Room for a busy machine on top of a bound: far from "hanging", never a speed assertion. */
const slackMs = 10_000;

describe('pg transactions through a faulty network', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let proxy: TcpProxy;
  let driver: PgDriver;
  let manager: TransactionManager;
  const applicationName = uniqueName('pg_proxy');

  beforeAll(async () => {
    schema = await createSchema('pg_proxy');
    await admin(`CREATE TABLE ${schema.schema}.items (id text PRIMARY KEY)`);
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const url = new URL(databaseUrl);
    url.host = proxy.address;
    driver = await createPgDriver({
      connectionString: withApplicationName(url.toString(), applicationName),
      applicationName,
      searchPath: schema.schema,
      poolSize: 4,
      connectTimeoutMs,
      queryTimeoutMs,
      acquireTimeoutMs: 30_000,
    });
    manager = new TransactionManager(driver);
  });

  afterEach(async () => {
    // Whatever a failed test left behind, the next one starts on a working network, with a pool
    // that has dropped the connections the cut killed.
    await proxy.cut();
    await expect.poll(() => driver.stats().total, { timeout: 30_000 }).toBe(0);
    await proxy.restore();
  });

  afterAll(async () => {
    await manager.close();
    await driver.close();
    await proxy.close();
    await schema.drop();
  });

  async function committed(prefix: string): Promise<string[]> {
    const rows = await admin<{ id: string }>(`SELECT id FROM ${schema.schema}.items WHERE id LIKE $1 ORDER BY id`, [
      `${prefix}%`,
    ]);
    return rows.map((row) => row.id);
  }

  /** The pool answers again: a fresh transaction commits through the restored network. */
  async function recovers(prefix: string): Promise<void> {
    await expect
      .poll(
        () =>
          manager
            .withTransaction(async (tx) => {
              await tx.query('INSERT INTO items VALUES ($1) ON CONFLICT DO NOTHING', [`${prefix}-after`]);
              return 'ok';
            })
            .catch((error: unknown) => (error as { code?: string }).code),
        { timeout: 30_000, interval: 100 },
      )
      .toBe('ok');
    expect(await committed(prefix)).toEqual([`${prefix}-after`]);
    expect(driver.leasedConnections).toBe(0);
    expect(manager.openTransactions).toBe(0);
  }

  async function failure(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
    const started = performance.now();
    const error = await work.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    return { error, ms: performance.now() - started };
  }

  it('connection cut mid-transaction: CONNECTION_LOST at once, nothing committed, the pool recovers', async () => {
    const prefix = uniqueName('cut');
    const { error, ms } = await failure(
      manager.withTransaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-1`]);
        await proxy.cut();
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-2`]);
      }),
    );
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', isRetryable: true });
    expect(ms).toBeLessThan(queryTimeoutMs + slackMs);
    expect(driver.leasedConnections).toBe(0);
    // While the network is down, a new transaction fails within the connect bound, coded.
    const down = await failure(manager.withTransaction(async (tx) => tx.query('SELECT 1')));
    expect(isPersistenceError(down.error)).toBe(true);
    expect((down.error as { isRetryable?: boolean }).isRetryable).toBe(true);
    expect(down.ms).toBeLessThan(connectTimeoutMs + slackMs);
    await proxy.restore();
    expect(await committed(prefix)).toEqual([]);
    await recovers(prefix);
  });

  it('network stalled mid-transaction: CONNECTION_LOST after queryTimeoutMs, nothing committed', async () => {
    const prefix = uniqueName('stall');
    const { error, ms } = await failure(
      manager.withTransaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-1`]);
        proxy.blackhole();
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-2`]);
      }),
    );
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', isRetryable: true });
    expect(ms).toBeGreaterThanOrEqual(queryTimeoutMs - 50);
    expect(ms).toBeLessThan(queryTimeoutMs + slackMs);
    await proxy.cut();
    await proxy.restore();
    expect(await committed(prefix)).toEqual([]);
    await recovers(prefix);
  });

  it('stalled during COMMIT: a non-retryable CONNECTION_LOST with status unknown, and no half commit', async () => {
    const prefix = uniqueName('commit');
    let status: (() => string) | undefined;
    const { error, ms } = await failure(
      manager.withTransaction(async (tx) => {
        status = () => tx.status;
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-1`]);
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-2`]);
        // The function is done: the next thing on the wire is COMMIT, which never arrives.
        proxy.blackhole();
      }),
    );
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', isRetryable: false });
    expect(status?.()).toBe('unknown');
    expect(ms).toBeLessThan(queryTimeoutMs + slackMs);
    await proxy.cut();
    await proxy.restore();
    // Both rows or neither: here neither, since COMMIT never reached the server.
    await expect.poll(() => committed(prefix), { timeout: 30_000 }).toEqual([]);
    await recovers(prefix);
  });

  it('backends terminated mid-transaction: CONNECTION_LOST, nothing committed, the pool recovers', async () => {
    const prefix = uniqueName('terminated');
    const { error, ms } = await failure(
      manager.withTransaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-1`]);
        expect(await terminateBackends(applicationName)).toBeGreaterThanOrEqual(1);
        await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-2`]);
      }),
    );
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', isRetryable: true });
    expect(ms).toBeLessThan(queryTimeoutMs + slackMs);
    expect(await committed(prefix)).toEqual([]);
    await recovers(prefix);
  });

  it('begins on another connection when the pooled one died while idle', async () => {
    const prefix = uniqueName('idle');
    await recovers(prefix);
    expect(driver.stats().idle).toBeGreaterThan(0);
    // Cut and restore at once: the pool still holds the dead connection when the next begin runs.
    await proxy.cut();
    await proxy.restore();
    await manager.withTransaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1)', [`${prefix}-next`]);
    });
    expect(await committed(prefix)).toEqual([`${prefix}-after`, `${prefix}-next`]);
  });

  it('rejects a bad queryTimeoutMs, naming it', async () => {
    await expect(createPgDriver({ connectionString: databaseUrl, queryTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('queryTimeoutMs'),
    });
  });
});
