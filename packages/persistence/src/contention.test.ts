import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountRepository, accountsSchema } from '../test/accounts.js';
import { createSchema, pgDriver } from '../test/databases.js';
import { isPersistenceError } from './errors.js';
import { Persistence } from './persistence.js';
import type { PgDriver } from './pg/index.js';
import { TransactionManager } from './transaction-manager.js';
import type { UnitOfWork } from './unit-of-work.js';

type Repos = { account: AccountRepository };

/**
 * Contention on real Postgres with the default retry settings: what an application gets without
 * tuning anything.
 */
describe('contended transactions on real Postgres, default settings', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  const drivers: PgDriver[] = [];

  beforeAll(async () => {
    schema = await createSchema('contention');
    const setup = await pgDriver(schema.schema, { poolSize: 1 });
    await setup.execute(`CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL); INSERT INTO counters VALUES (1, 0);
      ${accountsSchema}`);
    await setup.close();
  });

  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
    await schema.drop();
  });

  async function driver(poolSize: number): Promise<PgDriver> {
    const created = await pgDriver(schema.schema, { poolSize });
    drivers.push(created);
    return created;
  }

  it('4 pools × 25 SERIALIZABLE increments of one row all commit, and the sum is exact', async () => {
    const pools = 4;
    const perPool = 25;
    // Four pools stand for four processes of a service: nothing is shared but the database.
    const managers = await Promise.all(
      Array.from({ length: pools }, async () => new TransactionManager(await driver(2))),
    );
    const retries: number[] = [];
    for (const manager of managers) manager.on('retry', ({ attempt }) => retries.push(attempt));
    const increment = (manager: TransactionManager) =>
      manager.withTransaction(
        async (tx) => {
          const { rows } = await tx.query<{ value: number }>('SELECT value FROM counters WHERE id = 1');
          await tx.query('UPDATE counters SET value = $1 WHERE id = 1', [rows[0]!.value + 1]);
        },
        { isolationLevel: 'serializable' },
      );
    const failures: unknown[] = [];
    let committed = 0;
    await Promise.all(
      managers.flatMap((manager) =>
        // Two workers per pool keep both its connections busy; each runs its share one by one.
        [Math.ceil(perPool / 2), Math.floor(perPool / 2)].map(async (share) => {
          for (let i = 0; i < share; i++) {
            try {
              await increment(manager);
              committed++;
            } catch (error) {
              failures.push((error as { code?: string }).code ?? error);
            }
          }
        }),
      ),
    );
    expect(failures).toEqual([]);
    expect(committed).toBe(pools * perPool);
    const [total] = (await managers[0]!.query<{ value: number }>('SELECT value FROM counters WHERE id = 1')).rows;
    expect(total?.value).toBe(pools * perPool);
    // The contention was real: transactions did collide and were run again.
    expect(retries.length).toBeGreaterThan(0);
    await Promise.all(managers.map((manager) => manager.close()));
  });

  describe('transfers between two accounts in opposite directions', () => {
    let persistence: Persistence<Repos>;

    beforeAll(async () => {
      persistence = new Persistence<Repos>({
        driver: await driver(10),
        repositories: { account: (tx) => new AccountRepository(tx) },
      });
    });

    afterAll(async () => {
      await persistence.close();
    });

    async function reset(): Promise<void> {
      await persistence.query('DELETE FROM accounts');
      await persistence.query('INSERT INTO accounts VALUES (1, 10000), (2, 10000)');
    }

    async function balances(): Promise<number[]> {
      const { rows } = await persistence.query<{ balance: number }>('SELECT balance FROM accounts ORDER BY id');
      return rows.map((row) => row.balance);
    }

    /** The documented transfer body: rows locked in argument order, so opposite transfers can deadlock. */
    async function transferInArgumentOrder(unitOfWork: UnitOfWork<Repos>, from: number, to: number, amount: number) {
      const accountRepo = unitOfWork.getRepository('account');
      const fromAccount = (await accountRepo.findById(from))!;
      const toAccount = (await accountRepo.findById(to))!;
      fromAccount.balance -= amount;
      toAccount.balance += amount;
      await accountRepo.save(fromAccount);
      await accountRepo.save(toAccount);
    }

    it('runUnitOfWork retries the deadlock victims: 10 concurrent opposite transfers all land', async () => {
      await reset();
      const retried: unknown[] = [];
      const off = persistence.on('retry', ({ error }) => retried.push(error));
      // Each deadlock costs Postgres' deadlock_timeout (1 s) to detect: fewer transfers than below.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          persistence.runUnitOfWork((unitOfWork) =>
            i % 2 === 0 ? transferInArgumentOrder(unitOfWork, 1, 2, 7) : transferInArgumentOrder(unitOfWork, 2, 1, 3),
          ),
        ),
      );
      off();
      const failed = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      expect(failed.map((error) => (error as { code?: string }).code ?? String(error))).toEqual([]);
      expect(retried.every((error) => isPersistenceError(error, 'DEADLOCK_DETECTED'))).toBe(true);
      expect(await balances()).toEqual([10000 - 5 * 7 + 5 * 3, 10000 + 5 * 7 - 5 * 3]);
    });

    it('runUnitOfWork reruns a certain deadlock victim in a new unit of work', async () => {
      await reset();
      // Both first runs lock their first row before either asks for its second: a certain deadlock.
      let arrived = 0;
      let bothLocked!: () => void;
      const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
      const runs: UnitOfWork<Repos>[] = [];
      const transfer = (from: number, to: number) => {
        let first = true;
        return persistence.runUnitOfWork(async (unitOfWork) => {
          runs.push(unitOfWork);
          const accountRepo = unitOfWork.getRepository('account');
          const fromAccount = (await accountRepo.findById(from))!;
          if (first) {
            first = false;
            if (++arrived === 2) bothLocked();
            await barrier;
          }
          const toAccount = (await accountRepo.findById(to))!;
          await accountRepo.save({ ...fromAccount, balance: fromAccount.balance - 1 });
          await accountRepo.save({ ...toAccount, balance: toAccount.balance + 1 });
        });
      };
      const deadlocks: unknown[] = [];
      const off = persistence.on('retry', ({ error }) => deadlocks.push(error));
      await Promise.all([transfer(1, 2), transfer(2, 1)]);
      off();
      expect(deadlocks.length).toBe(1);
      expect(isPersistenceError(deadlocks[0], 'DEADLOCK_DETECTED')).toBe(true);
      expect(runs).toHaveLength(3);
      expect(new Set(runs).size).toBe(3);
      expect(runs.map((run) => run.state).sort()).toEqual(['committed', 'committed', 'rolledBack']);
      expect(await balances()).toEqual([10000, 10000]);
    });

    it('withRetries reruns the begin/commit form unchanged: 6 concurrent opposite transfers all land', async () => {
      await reset();
      // The documented form: a unit of work created, begun, committed or rolled back by the function.
      async function transferFunds(fromAccountId: number, toAccountId: number, amount: number) {
        const unitOfWork = await persistence.createUnitOfWork();
        try {
          await unitOfWork.begin();
          await transferInArgumentOrder(unitOfWork, fromAccountId, toAccountId, amount);
          await unitOfWork.commit();
          return { success: true };
        } catch (error) {
          await unitOfWork.rollback();
          throw error;
        }
      }
      const retried: unknown[] = [];
      const off = persistence.on('retry', ({ error }) => retried.push(error));
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          persistence.withRetries(() => (i % 2 === 0 ? transferFunds(1, 2, 7) : transferFunds(2, 1, 3))),
        ),
      );
      off();
      const failed = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      expect(failed.map((error) => (error as { code?: string }).code ?? String(error))).toEqual([]);
      expect(retried.every((error) => isPersistenceError(error, 'DEADLOCK_DETECTED'))).toBe(true);
      expect(await balances()).toEqual([10000 - 3 * 7 + 3 * 3, 10000 + 3 * 7 - 3 * 3]);
      await expect(persistence.withRetries('nope' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(persistence.withRetries(async () => 1, { retries: 1.5 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('retries'),
      });
    });

    it('locking both rows in a stable order (ORDER BY id FOR UPDATE) never deadlocks: 50 opposite transfers', async () => {
      await reset();
      const retried: unknown[] = [];
      const off = persistence.on('retry', ({ error }) => retried.push(error));
      // The example of the README: lock every row the transfer touches in one statement, in id order.
      const transfer = (from: number, to: number, amount: number) =>
        persistence.runUnitOfWork(
          async (unitOfWork) => {
            const { rows } = await unitOfWork.transaction.query<{ id: number; balance: number }>(
              'SELECT id, balance FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE',
              [[from, to]],
            );
            const byId = new Map(rows.map((row) => [row.id, row]));
            const accountRepo = unitOfWork.getRepository('account');
            await accountRepo.save({ id: from, balance: byId.get(from)!.balance - amount });
            await accountRepo.save({ id: to, balance: byId.get(to)!.balance + amount });
          },
          // Nothing to retry: a failure here would be a bug, and must show.
          { retries: 0 },
        );
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? transfer(1, 2, 7) : transfer(2, 1, 3))),
      );
      off();
      const failed = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      expect(failed.map((error) => (error as { code?: string }).code ?? String(error))).toEqual([]);
      expect(retried).toEqual([]);
      expect(await balances()).toEqual([10000 - 25 * 7 + 25 * 3, 10000 + 25 * 7 - 25 * 3]);
    });

    it('runUnitOfWork commits what fn did, rolls back when it throws, and checks its arguments', async () => {
      await reset();
      await expect(
        persistence.runUnitOfWork(async (unitOfWork) => {
          await unitOfWork.getRepository('account').save({ id: 1, balance: 1 });
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await balances()).toEqual([10000, 10000]);
      await expect(
        persistence.runUnitOfWork(async (unitOfWork) => {
          await unitOfWork.getRepository('account').save({ id: 1, balance: 2 });
          return 'done';
        }),
      ).resolves.toBe('done');
      expect(await balances()).toEqual([2, 10000]);
      await expect(persistence.runUnitOfWork('nope' as never)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('fn'),
      });
      await expect(persistence.runUnitOfWork(async () => 1, { retries: -1 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('retries'),
      });
    });
  });
});
