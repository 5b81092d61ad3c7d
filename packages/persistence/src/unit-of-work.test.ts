import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventually } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AccountRepository, accountsSchema, documentedTransferFunds } from '../test/accounts.js';
import { driverFixtures } from '../test/databases.js';
import type { DatabaseDriver } from './driver.js';
import { Persistence } from './persistence.js';
import { withRollback } from './testing/index.js';
import type { TransactionManagerEvents } from './transaction-manager.js';

type Repos = { account: AccountRepository };

/** How long an eventual condition may take: generous, so that a loaded machine never fails a test. */
const DEADLINE_MS = 30_000;

describe.each(driverFixtures('uow'))('UnitOfWork on $name', (fixture) => {
  let driver: DatabaseDriver;
  let persistence: Persistence<Repos>;

  const transferFunds = documentedTransferFunds(() => persistence.createUnitOfWork());

  async function balances(): Promise<Record<number, number>> {
    const { rows } = await driver.query<{ id: number; balance: number }>(
      'SELECT id, balance FROM accounts ORDER BY id',
    );
    return Object.fromEntries(rows.map((row) => [row.id, row.balance]));
  }

  beforeAll(async () => {
    driver = await fixture.create();
    await driver.execute(accountsSchema);
    persistence = new Persistence<Repos>({
      driver,
      // 50 concurrent transfers queue for 5 connections (PGlite: one): far longer than they take.
      acquireTimeoutMs: 300_000,
      retryInitialDelayMs: 1,
      retryMaxDelayMs: 10,
      repositories: { account: (tx) => new AccountRepository(tx) },
    });
  });

  afterAll(async () => {
    await persistence.close();
    await driver.close();
    await fixture.drop();
  });

  async function resetAccounts(count: number, balance: number): Promise<void> {
    await driver.query('DELETE FROM accounts');
    await driver.query('INSERT INTO accounts SELECT g, $1 FROM generate_series(1, $2::int) AS g', [balance, count]);
  }

  it('runs the documented transfer and commits it', async () => {
    await resetAccounts(2, 100);
    await expect(transferFunds(1, 2, 30)).resolves.toEqual({ success: true });
    expect(await balances()).toEqual({ 1: 70, 2: 130 });
  });

  it('rolls the documented transfer back when a statement fails', async () => {
    await resetAccounts(2, 100);
    // The CHECK constraint refuses a negative balance on the first save.
    await expect(transferFunds(1, 2, 500)).rejects.toMatchObject({ code: 'QUERY_FAILED', sqlState: '23514' });
    expect(await balances()).toEqual({ 1: 100, 2: 100 });
    expect(driver.stats().inUse).toBe(0);
  });

  it('conserves money under 50 concurrent transfers, with no lost update', async () => {
    const accounts = 6;
    await resetAccounts(accounts, 1000);
    const transfers = Array.from({ length: 50 }, (_, index) => ({
      from: (index % accounts) + 1,
      to: ((index * 7 + 3) % accounts) + 1,
      amount: (index % 9) + 1,
    })).filter((transfer) => transfer.from !== transfer.to);
    const outcomes = await Promise.allSettled(transfers.map((t) => transferFunds(t.from, t.to, t.amount)));
    const expected: Record<number, number> = Object.fromEntries(
      Array.from({ length: accounts }, (_, i) => [i + 1, 1000]),
    );
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'rejected') {
        // Opposite transfers lock in opposite order; Postgres breaks the cycle, the caller may retry.
        expect(outcome.reason).toMatchObject({ code: 'DEADLOCK_DETECTED' });
        return;
      }
      const t = transfers[index]!;
      expected[t.from]! -= t.amount;
      expected[t.to]! += t.amount;
    });
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').length).toBeGreaterThan(transfers.length / 2);
    expect(await balances()).toEqual(expected);
    const total = await persistence.withTransaction(async (tx) => persistence.getRepository('account', tx).total());
    expect(total).toBe(accounts * 1000);
    expect(driver.stats().inUse).toBe(0);
  });

  it('refuses to be used out of order, with coded errors', async () => {
    const unitOfWork = await persistence.createUnitOfWork();
    expect(unitOfWork.state).toBe('new');
    await expect(unitOfWork.commit()).rejects.toMatchObject({ code: 'UOW_NOT_ACTIVE' });
    expect(() => unitOfWork.getRepository('account')).toThrow(expect.objectContaining({ code: 'UOW_NOT_ACTIVE' }));
    await unitOfWork.begin();
    await expect(unitOfWork.begin()).rejects.toMatchObject({ code: 'UOW_ALREADY_BEGUN' });
    expect(() => unitOfWork.getRepository('nope' as 'account')).toThrow(
      expect.objectContaining({ code: 'REPOSITORY_NOT_FOUND' }),
    );
    expect(unitOfWork.getRepository('account')).toBe(unitOfWork.getRepository('account'));
    await unitOfWork.commit();
    expect(unitOfWork.state).toBe('committed');
    await expect(unitOfWork.commit()).rejects.toMatchObject({ code: 'UOW_FINISHED' });
    await expect(unitOfWork.rollback()).rejects.toMatchObject({ code: 'UOW_FINISHED' });
    expect(() => unitOfWork.getRepository('account')).toThrow(expect.objectContaining({ code: 'UOW_FINISHED' }));

    const rolledBack = await persistence.createUnitOfWork();
    await rolledBack.begin();
    await rolledBack.rollback();
    await rolledBack.rollback();
    expect(rolledBack.state).toBe('rolledBack');
    await expect(rolledBack.commit()).rejects.toMatchObject({ code: 'UOW_FINISHED' });
    expect(driver.stats().inUse).toBe(0);
  });

  it('fires hooks registered on the unit of work', async () => {
    const calls: string[] = [];
    const committed = await persistence.createUnitOfWork();
    await committed.begin();
    committed.afterCommit(() => void calls.push('commit'));
    committed.afterRollback(() => void calls.push('never'));
    await committed.commit();
    const undone = await persistence.createUnitOfWork();
    await undone.begin();
    undone.afterCommit(() => void calls.push('never'));
    undone.afterRollback(() => void calls.push('rollback'));
    await undone.rollback();
    expect(calls).toEqual(['commit', 'rollback']);
  });

  it('rolls back and reports a unit of work left open past its deadline', async () => {
    await resetAccounts(2, 100);
    const abandoned: TransactionManagerEvents['abandoned'][] = [];
    const off = persistence.on('abandoned', (event) => abandoned.push(event));
    // The deadline's timer is faked: it fires after the write however slow the machine, when told.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const unitOfWork = await persistence.createUnitOfWork({ timeoutMs: 100 });
    try {
      await unitOfWork.begin();
      await unitOfWork.getRepository('account').save({ id: 1, balance: 0 });
      vi.advanceTimersByTime(100);
    } finally {
      vi.useRealTimers();
    }
    await eventually(() => abandoned.length === 1, DEADLINE_MS);
    off();
    expect(abandoned[0]!.reason).toMatch(/still open after 100 ms/);
    expect(driver.stats().inUse).toBe(0);
    await expect(unitOfWork.commit()).rejects.toMatchObject({ code: 'UOW_ABANDONED' });
    await expect(unitOfWork.rollback()).resolves.toBeUndefined();
    expect(await balances()).toEqual({ 1: 100, 2: 100 });
  });

  it('rolls back and reports a unit of work that was garbage-collected while open', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const abandoned: TransactionManagerEvents['abandoned'][] = [];
    const off = persistence.on('abandoned', (event) => abandoned.push(event));
    await (async () => {
      const forgotten = await persistence.createUnitOfWork({ timeoutMs: 0 });
      await forgotten.begin();
      await forgotten.getRepository('account').save({ id: 2, balance: 1 });
    })();
    await eventually(
      async () => {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        return abandoned.length === 1;
      },
      DEADLINE_MS,
      50,
    );
    off();
    expect(abandoned[0]!.reason).toMatch(/garbage-collected/);
    await eventually(() => driver.stats().inUse === 0, DEADLINE_MS);
    expect((await balances())[2]).not.toBe(1);
  });

  it('nests in the test helper: the documented transfer runs as a savepoint and nothing stays behind', async () => {
    await resetAccounts(2, 100);
    await withRollback(persistence, async (tx) => {
      await transferFunds(1, 2, 10);
      const { rows } = await tx.query('SELECT balance FROM accounts ORDER BY id');
      expect(rows).toEqual([{ balance: 90 }, { balance: 110 }]);
      await expect(transferFunds(1, 2, 1000)).rejects.toMatchObject({ code: 'QUERY_FAILED' });
      expect((await tx.query('SELECT balance FROM accounts ORDER BY id')).rows).toEqual([
        { balance: 90 },
        { balance: 110 },
      ]);
    });
    expect(await balances()).toEqual({ 1: 100, 2: 100 });
  });

  it('gives repositories the ambient transaction through run()', async () => {
    await resetAccounts(1, 5);
    const unitOfWork = await persistence.createUnitOfWork();
    await unitOfWork.begin();
    await unitOfWork.run(async () => {
      expect(persistence.currentTransaction()).toBe(unitOfWork.transaction);
      await persistence.getRepository('account').save({ id: 1, balance: 6 });
    });
    await unitOfWork.rollback();
    expect(await balances()).toEqual({ 1: 5 });
  });
});
