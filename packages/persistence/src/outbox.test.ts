import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverFixtures } from '../test/databases.js';
import type { DatabaseDriver } from './driver.js';
import { migrate } from './migrations/migrate.js';
import { addToOutbox, fetchOutboxBatch, markOutboxFailed, markOutboxSent, outboxMigration } from './outbox.js';
import { TransactionManager } from './transaction-manager.js';

describe.each(driverFixtures('outbox'))('outbox on $name', (fixture) => {
  let driver: DatabaseDriver;
  let manager: TransactionManager;

  beforeAll(async () => {
    driver = await fixture.create();
    manager = new TransactionManager(driver);
    await migrate(driver, { migrations: [outboxMigration()] });
  });

  afterAll(async () => {
    await manager.close();
    await driver.close();
    await fixture.drop();
  });

  async function pending(): Promise<string[]> {
    return (
      await driver.query<{ topic: string }>('SELECT topic FROM outbox WHERE sent_at IS NULL ORDER BY id')
    ).rows.map((row) => row.topic);
  }

  it('writes a message only when its transaction commits', async () => {
    const { id } = await manager.withTransaction((tx) =>
      addToOutbox(tx, 'challenge.completed', { userId: 7, score: 3 }, { key: 'user-7', headers: { source: 'test' } }),
    );
    expect(id).toMatch(/^\d+$/);
    await manager
      .withTransaction(async (tx) => {
        await addToOutbox(tx, 'never.sent', { lost: true });
        throw new Error('business failure');
      })
      .catch(() => undefined);
    expect(await pending()).toEqual(['challenge.completed']);
    const [message] = await manager.withTransaction((tx) => fetchOutboxBatch(tx));
    expect(message).toMatchObject({
      id,
      topic: 'challenge.completed',
      key: 'user-7',
      payload: { userId: 7, score: 3 },
      headers: { source: 'test' },
      attempts: 0,
    });
    expect(message!.createdAt).toBeInstanceOf(Date);
  });

  it('lets a relay fetch, mark sent, and back off failed messages', async () => {
    await manager.withTransaction(async (tx) => {
      await addToOutbox(tx, 'a', 1);
      await addToOutbox(tx, 'b', 2);
    });
    await manager.withTransaction(async (tx) => {
      const batch = await fetchOutboxBatch(tx, { limit: 10 });
      const [first, ...rest] = batch.filter((message) => message.topic !== 'challenge.completed');
      await markOutboxFailed(tx, first!.id, 'broker down', { retryDelayMs: 60_000 });
      expect(
        await markOutboxSent(
          tx,
          rest.map((message) => message.id),
        ),
      ).toBe(rest.length);
      await markOutboxSent(
        tx,
        batch.filter((message) => message.topic === 'challenge.completed').map((message) => message.id),
      );
    });
    // 'a' waits out its back-off; everything else was sent.
    expect(await manager.withTransaction((tx) => fetchOutboxBatch(tx))).toEqual([]);
    const { rows } = await driver.query<{ attempts: number; last_error: string }>(
      "SELECT attempts, last_error FROM outbox WHERE topic = 'a'",
    );
    expect(rows).toEqual([{ attempts: 1, last_error: 'broker down' }]);
  });

  it('validates what it is given', async () => {
    await expect(addToOutbox(driver as never, 't', {})).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      option: 'tx',
    });
    await manager.withTransaction(async (tx) => {
      await expect(addToOutbox(tx, '', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', option: 'topic' });
      await expect(addToOutbox(tx, 't', undefined)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        option: 'payload',
      });
      await expect(addToOutbox(tx, 't', {}, { headers: { n: 1 as never } })).rejects.toMatchObject({
        option: 'headers.n',
      });
      await expect(markOutboxSent(tx, ['1; DROP TABLE outbox'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(fetchOutboxBatch(tx, { table: 'outbox; --' })).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        option: 'table',
      });
    });
  });

  it.runIf(fixture.name === 'pg')('gives concurrent relays disjoint batches (FOR UPDATE SKIP LOCKED)', async () => {
    await driver.query('UPDATE outbox SET sent_at = now()');
    await manager.withTransaction(async (tx) => {
      for (let i = 0; i < 6; i++) await addToOutbox(tx, `m${i}`, i);
    });
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let firstBatch: string[] = [];
    const first = manager.withTransaction(async (tx) => {
      firstBatch = (await fetchOutboxBatch(tx, { limit: 3 })).map((message) => message.topic);
      await hold;
    });
    await expect.poll(() => firstBatch.length).toBe(3);
    const secondBatch = await manager.withTransaction(async (tx) =>
      (await fetchOutboxBatch(tx, { limit: 10 })).map((message) => message.topic),
    );
    release();
    await first;
    expect(firstBatch).toEqual(['m0', 'm1', 'm2']);
    expect(secondBatch).toEqual(['m3', 'm4', 'm5']);
  });
});
