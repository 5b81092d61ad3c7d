import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverFixtures } from '../test/databases.js';
import type { DatabaseDriver } from './driver.js';
import { isPersistenceError } from './errors.js';
import { TransactionManager, type TransactionManagerEvents } from './transaction-manager.js';
import type { Transaction } from './transaction.js';

const RAISE_SERIALIZATION =
  "DO $$ BEGIN RAISE EXCEPTION 'forced conflict' USING ERRCODE = 'serialization_failure'; END $$";

describe.each(driverFixtures('tx_manager'))('TransactionManager on $name', (fixture) => {
  let driver: DatabaseDriver;
  let manager: TransactionManager;
  let tables = 0;

  async function freshTable(): Promise<string> {
    const name = `items_${++tables}`;
    await driver.query(`CREATE TABLE ${name} (id int PRIMARY KEY, note text)`);
    return name;
  }

  async function ids(table: string): Promise<number[]> {
    return (await driver.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((row) => row.id);
  }

  beforeAll(async () => {
    driver = await fixture.create();
    manager = new TransactionManager(driver, { retryInitialDelayMs: 1, retryMaxDelayMs: 5, acquireTimeoutMs: 60_000 });
  });

  afterAll(async () => {
    await manager.close();
    await driver.close();
    await fixture.drop();
  });

  it('commits when the function resolves and returns its value', async () => {
    const table = await freshTable();
    const value = await manager.withTransaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES (1, 'a')`);
      expect(tx.depth).toBe(0);
      expect(tx.status).toBe('active');
      return 'done';
    });
    expect(value).toBe('done');
    expect(await ids(table)).toEqual([1]);
  });

  it('rolls back when the function throws and rethrows the same error', async () => {
    const table = await freshTable();
    const failure = new Error('business rule');
    let handle: Transaction | undefined;
    await expect(
      manager.withTransaction(async (tx) => {
        handle = tx;
        await tx.query(`INSERT INTO ${table} VALUES (1, 'a')`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await ids(table)).toEqual([]);
    expect(handle?.status).toBe('rolledBack');
    await expect(handle!.query('SELECT 1')).rejects.toMatchObject({ code: 'TRANSACTION_CLOSED' });
    expect(driver.stats().inUse).toBe(0);
  });

  it('turns nested calls into savepoints: an inner failure undoes only the inner work', async () => {
    const table = await freshTable();
    await manager.withTransaction(async (outer) => {
      await outer.query(`INSERT INTO ${table} VALUES (1, 'outer')`);
      await manager.withTransaction(async (inner) => {
        expect(inner.depth).toBe(1);
        expect(inner.id).toBe(`${outer.id}.1`);
        await inner.query(`INSERT INTO ${table} VALUES (2, 'kept')`);
      });
      await expect(
        manager.withTransaction(async (inner) => {
          await inner.query(`INSERT INTO ${table} VALUES (3, 'undone')`);
          await manager.withTransaction(async (deepest) => {
            expect(deepest.depth).toBe(2);
            await deepest.query(`INSERT INTO ${table} VALUES (4, 'undone too')`);
          });
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      // The failed savepoint left the outer transaction usable.
      await outer.query(`INSERT INTO ${table} VALUES (5, 'after')`);
    });
    expect(await ids(table)).toEqual([1, 2, 5]);
  });

  it('propagates the ambient transaction and also takes an explicit handle', async () => {
    const table = await freshTable();
    const repository = {
      add: (id: number) => manager.ambient.query(`INSERT INTO ${table} VALUES ($1, 'ambient')`, [id]),
    };
    await expect(
      manager.withTransaction(async (tx) => {
        await repository.add(1);
        expect(manager.current()).toBe(tx);
        await manager.withTransaction(
          async (savepoint) => {
            expect(savepoint.depth).toBe(1);
          },
          { parent: tx },
        );
        await tx.withTransaction(async (savepoint) => {
          await savepoint.query(`INSERT INTO ${table} VALUES (2, 'explicit')`);
        });
        expect((await tx.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 2 });
        throw new Error('undo everything');
      }),
    ).rejects.toThrow('undo everything');
    expect(manager.current()).toBeUndefined();
    expect(await ids(table)).toEqual([]);
    await repository.add(9);
    expect(await ids(table)).toEqual([9]);
  });

  it('runs afterCommit hooks once after commit and never on rollback', async () => {
    const calls: string[] = [];
    await manager.withTransaction(async (tx) => {
      tx.afterCommit(() => void calls.push('root commit'));
      tx.afterRollback(() => void calls.push('root rollback'));
      await tx.withTransaction(async (kept) => {
        kept.afterCommit(() => void calls.push('kept savepoint commit'));
        kept.afterRollback(() => void calls.push('kept savepoint rollback'));
      });
      await tx
        .withTransaction(async (undone) => {
          undone.afterCommit(() => void calls.push('undone savepoint commit'));
          undone.afterRollback(() => void calls.push('undone savepoint rollback'));
          throw new Error('undo');
        })
        .catch(() => undefined);
      expect(calls).toEqual(['undone savepoint rollback']);
    });
    expect(calls).toEqual(['undone savepoint rollback', 'root commit', 'kept savepoint commit']);

    calls.length = 0;
    await manager
      .withTransaction(async (tx) => {
        tx.afterCommit(() => void calls.push('commit'));
        tx.afterRollback(() => void calls.push('rollback'));
        await tx.withTransaction(async (savepoint) => {
          savepoint.afterCommit(() => void calls.push('savepoint commit'));
          savepoint.afterRollback(() => void calls.push('savepoint rollback'));
        });
        throw new Error('fail');
      })
      .catch(() => undefined);
    expect(calls).toEqual(['rollback', 'savepoint rollback']);
  });

  it('reports a throwing hook without changing the outcome', async () => {
    const errors: TransactionManagerEvents['hookError'][] = [];
    const off = manager.on('hookError', (event) => errors.push(event));
    const later: string[] = [];
    const value = await manager.withTransaction(async (tx) => {
      tx.afterCommit(() => {
        throw new Error('hook broke');
      });
      tx.afterCommit(() => void later.push('second hook still ran'));
      return 42;
    });
    off();
    expect(value).toBe(42);
    expect(later).toEqual(['second hook still ran']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ hook: 'afterCommit', error: new Error('hook broke') });
  });

  it('rolls back and says so when a failed statement was caught inside the transaction', async () => {
    const table = await freshTable();
    await expect(
      manager.withTransaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES (1, 'a')`);
        await tx.query(`INSERT INTO ${table} VALUES (1, 'duplicate')`).catch(() => undefined);
      }),
    ).rejects.toMatchObject({ code: 'TRANSACTION_ABORTED' });
    expect(await ids(table)).toEqual([]);
  });

  it('rolls back a rollback-only transaction and still returns its value', async () => {
    const table = await freshTable();
    const value = await manager.withTransaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES (1, 'a')`);
      tx.setRollbackOnly();
      return 'kept value';
    });
    expect(value).toBe('kept value');
    expect(await ids(table)).toEqual([]);
  });

  it('serializes concurrent savepoints of one transaction', async () => {
    const table = await freshTable();
    await manager.withTransaction(async () => {
      await Promise.all(
        [1, 2, 3, 4].map((id) =>
          manager
            .withTransaction(async (savepoint) => {
              await savepoint.query(`INSERT INTO ${table} VALUES ($1, 'sibling')`, [id]);
              if (id === 3) throw new Error('only three fails');
            })
            .catch(() => undefined),
        ),
      );
    });
    expect(await ids(table)).toEqual([1, 2, 4]);
  });

  it('retries a serialization failure at the outermost level only, then succeeds', async () => {
    const table = await freshTable();
    const attempts: number[] = [];
    const retries: number[] = [];
    const off = manager.on('retry', (event) => retries.push(event.attempt));
    const result = await manager.withTransaction(async (tx) => {
      attempts.push(tx.attempt);
      await tx.query(`INSERT INTO ${table} VALUES ($1, 'attempt')`, [tx.attempt]);
      await tx.withTransaction(async (savepoint) => {
        if (savepoint.attempt < 3) await savepoint.query(RAISE_SERIALIZATION);
      });
      return tx.attempt;
    });
    off();
    expect(result).toBe(3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(retries).toEqual([1, 2]);
    expect(await ids(table)).toEqual([3]);
  });

  it('gives up after the configured retries with the coded error', async () => {
    let runs = 0;
    const error = await manager
      .withTransaction(
        async (tx) => {
          runs += 1;
          await tx.query(RAISE_SERIALIZATION);
        },
        { retries: 1 },
      )
      .catch((caught: unknown) => caught);
    expect(runs).toBe(2);
    expect(isPersistenceError(error, 'SERIALIZATION_FAILURE')).toBe(true);
    expect(error).toMatchObject({ sqlState: '40001', isRetryable: true });
    expect(driver.stats().inUse).toBe(0);
  });

  it('rejects options a savepoint cannot honour, and bad arguments', async () => {
    await manager.withTransaction(async (tx) => {
      await expect(
        manager.withTransaction(async () => undefined, { isolationLevel: 'serializable' }),
      ).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        option: 'isolationLevel',
      });
      await expect(tx.withTransaction(async () => undefined)).resolves.toBeUndefined();
    });
    await expect(manager.withTransaction(async () => undefined, { retries: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'retries',
    });
    await expect(
      manager.withTransaction(async () => undefined, { isolationLevel: 'chaos' as never }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(manager.withTransaction('nope' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new TransactionManager(driver, { acquireTimeoutMs: 0 })).toThrow(/acquireTimeoutMs/);
  });

  it('starts read-only and serializable transactions as asked', async () => {
    const settings = await manager.withTransaction(
      async (tx) =>
        (
          await tx.query<{ iso: string; ro: string }>(
            "SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro",
          )
        ).rows[0],
      { isolationLevel: 'serializable', readOnly: true },
    );
    expect(settings).toEqual({ iso: 'serializable', ro: 'on' });
    const table = await freshTable();
    await expect(
      manager.withTransaction(async (tx) => tx.query(`INSERT INTO ${table} VALUES (1, 'x')`), { readOnly: true }),
    ).rejects.toMatchObject({ code: 'QUERY_FAILED', sqlState: '25006' });
  });

  it('leaves no connection leased and no transaction open', () => {
    expect(manager.openTransactions).toBe(0);
    expect(driver.stats().inUse).toBe(0);
  });
});
