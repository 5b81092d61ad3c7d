import { Persistence, outboxMigration } from '@infra/persistence';
import { createPgDriver, type PgDriver } from '@infra/persistence/pg';
import { databaseUrl, startPrivateRedis, uniqueName, type PrivateRedis } from '@infra/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createRedisAdapter } from '../redis/redis-adapter.js';
import { OutboxRelay } from './outbox-relay.js';
import { TransactionalOutbox } from './transactional-outbox.js';

const schema = uniqueName('messaging_relay_faults');
let driver: PgDriver;
let persistence: Persistence;
let server: PrivateRedis;
const wait = { timeout: 30_000, interval: 50 };

async function admin<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

const unsent = async (): Promise<number> =>
  Number((await admin<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.outbox WHERE sent_at IS NULL`))[0]?.n);

beforeAll(async () => {
  await admin(`CREATE SCHEMA ${schema}`);
  driver = await createPgDriver({ connectionString: databaseUrl, searchPath: schema, poolSize: 3 });
  persistence = new Persistence({ driver });
  await persistence.migrate({ migrations: [outboxMigration()] });
  server = await startPrivateRedis();
}, 60_000);

afterAll(async () => {
  await server.close();
  await persistence.close();
  await driver.close();
  await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe('outbox relay under faults', () => {
  it('keeps rows unsent while the broker is down and sends every one once it is back', async () => {
    const adapter = await createRedisAdapter({ connection: server.url, blockMs: 200, connectTimeoutMs: 500 });
    const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
    const relay = new OutboxRelay({ persistence, bus, pollIntervalMs: 100, retryDelayMs: 50 });
    const outbox = new TransactionalOutbox({ bus, persistence, relay });
    const relayErrors: unknown[] = [];
    relay.on('error', ({ error }) => relayErrors.push(error));
    const handled = new Map<number, number>();
    await bus
      .subscribe(
        'order.placed',
        (payload: { n: number }) => void handled.set(payload.n, (handled.get(payload.n) ?? 0) + 1),
        {
          group: 'billing',
          startFrom: 'earliest',
        },
      )
      .ready();
    try {
      await server.kill();
      for (let n = 0; n < 50; n++) await persistence.withTransaction(() => outbox.publish('order.placed', { n }));
      relay.start();
      await expect.poll(() => relayErrors.length, wait).toBeGreaterThan(0);
      // No XADD answered with an id: not one row counts as sent.
      expect(await unsent()).toBe(50);
      expect(handled.size).toBe(0);

      await server.restart();
      await expect.poll(unsent, wait).toBe(0);
      await expect.poll(() => handled.size, wait).toBe(50);
      expect([...handled.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    } finally {
      await relay.close();
      await bus.close({ timeoutMs: 500 });
    }
  }, 120_000);
});
