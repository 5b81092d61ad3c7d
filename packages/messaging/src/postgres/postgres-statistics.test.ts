import { adminQuery, databaseUrl, uniqueName } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createPostgresAdapter } from './postgres-adapter.js';

const schema = uniqueName('messaging_pg_stats');
const wait = { timeout: 20_000, interval: 50 };

afterAll(async () => {
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

/** When the deliveries table was last analyzed by hand (autovacuum's own runs are not counted). */
async function lastAnalyze(): Promise<unknown> {
  const [row] = await adminQuery<{ last_analyze: Date | null }>(
    `SELECT last_analyze FROM pg_stat_user_tables WHERE relid = '${schema}.deliveries'::regclass`,
  );
  return row?.last_analyze ?? null;
}

describe('postgres adapter statistics', () => {
  it('analyzes a deliveries table that never was once a take comes back full, and not for a trickle', async () => {
    const adapter = await createPostgresAdapter({
      connectionString: databaseUrl,
      schema,
      batchSize: 50,
      pollIntervalMs: 200,
    });
    const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
    try {
      const trickle: unknown[] = [];
      await bus.subscribe('stats.trickle', (payload) => void trickle.push(payload), { group: 'g' }).ready();
      for (let i = 0; i < 10; i++) {
        await bus.publish('stats.trickle', { i });
        await expect.poll(() => trickle.length, wait).toBe(i + 1);
      }
      expect(await lastAnalyze()).toBeNull();

      // A backlog: 200 messages waiting for a group whose consumer starts afterwards.
      const queue = await adapter.subscribe({
        topic: 'stats.backlog',
        group: 'g',
        consumer: 'setup',
        startFrom: 'latest',
      });
      await queue.close([]);
      await bus.publishBatch(Array.from({ length: 200 }, (_, i) => ({ topic: 'stats.backlog', payload: { i } })));
      const handled: unknown[] = [];
      await bus.subscribe('stats.backlog', (payload) => void handled.push(payload), { group: 'g' }).ready();
      await expect.poll(() => handled.length, wait).toBe(200);
      await expect.poll(lastAnalyze, wait).not.toBeNull();
    } finally {
      await bus.close({ timeoutMs: 1000 });
    }
  });
});
