import { Persistence, outboxMigration } from '@infra/persistence';
import { createPgDriver } from '@infra/persistence/pg';
import { adminQuery, databaseUrl, eventually, uniqueName } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { TransactionalOutbox } from '../outbox/transactional-outbox.js';
import { createPostgresAdapter, type PostgresAdapter } from './postgres-adapter.js';

// A service on Postgres alone: outbox written with the business change, relayed into the Postgres
// transport, handled with the inbox. No broker anywhere.
const schema = uniqueName('messaging_pg_outbox');
let persistence: Persistence;
let adapter: PostgresAdapter;
let bus: MessageBus;
let relay: OutboxRelay;

beforeAll(async () => {
  await adminQuery(
    `CREATE SCHEMA ${schema};
     CREATE TABLE ${schema}.orders (id int PRIMARY KEY);
     CREATE TABLE ${schema}.invoices (order_id int NOT NULL, message_id text NOT NULL)`,
  );
  const driver = await createPgDriver({
    connectionString: databaseUrl,
    searchPath: schema,
    applicationName: `${schema}_app`,
    poolSize: 6,
  });
  persistence = new Persistence({ driver });
  await persistence.migrate({ migrations: [outboxMigration()] });
  adapter = await createPostgresAdapter({ persistence, schema, pollIntervalMs: 1000 });
  bus = new MessageBus({ adapter, lagIntervalMs: 0 });
  relay = new OutboxRelay({ persistence, bus, pollIntervalMs: 200 }).start();
});

afterAll(async () => {
  await relay.close();
  await bus.close({ timeoutMs: 500 });
  await persistence.close();
  await persistence.driver.close();
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe('outbox → Postgres transport → inbox', () => {
  it('delivers exactly the committed messages, each handled once', async () => {
    const outbox = new TransactionalOutbox({ bus, persistence, relay });
    await bus
      .subscribe(
        'order.created',
        async (order: { id: number }, message) => {
          await persistence.withTransaction(async (tx) => {
            await tx.query('INSERT INTO invoices (order_id, message_id) VALUES ($1, $2)', [order.id, message.id]);
            await adapter.inbox.ack(message);
          });
        },
        { group: 'billing', concurrency: 4 },
      )
      .ready();
    for (let id = 1; id <= 20; id++) {
      await persistence.withTransaction(async (tx) => {
        await tx.query('INSERT INTO orders (id) VALUES ($1)', [id]);
        await outbox.publish('order.created', { id }, { key: `customer-${String(id % 3)}` });
      });
    }
    await persistence
      .withTransaction(async (tx) => {
        await tx.query('INSERT INTO orders (id) VALUES (99)');
        await outbox.publish('order.created', { id: 99 });
        throw new Error('payment declined');
      })
      .catch(() => undefined);
    const invoices = async () =>
      adminQuery<{ order_id: number }>(`SELECT order_id FROM ${schema}.invoices ORDER BY order_id`);
    await eventually(async () => (await invoices()).length >= 20, 20_000);
    // A rolled-back order published nothing; a relayed message is handled once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await invoices()).map((row) => row.order_id)).toEqual([...Array(20).keys()].map((i) => i + 1));
    expect(await adapter.backlog('order.created', 'billing')).toEqual({ pending: 0, lag: 0 });
    const unsent = await adminQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${schema}.outbox WHERE sent_at IS NULL`,
    );
    expect(unsent[0]?.n).toBe(0);
  });
});
