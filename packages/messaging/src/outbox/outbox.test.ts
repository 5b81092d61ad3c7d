import { Persistence, addToOutbox, outboxMigration } from '@infra/persistence';
import { createPgDriver, type PgDriver } from '@infra/persistence/pg';
import { adminQuery as admin, databaseUrl, eventually, expectIdempotencyClaims, uniqueName } from '@infra/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { idempotent } from '../idempotency.js';
import { MemoryAdapter } from '../memory/memory-adapter.js';
import { MessageBus } from '../message-bus.js';
import type { ReceivedMessage } from '../subscription.js';
import { OutboxRelay } from './outbox-relay.js';
import { PostgresIdempotencyStore, idempotencyMigration } from './postgres-idempotency-store.js';
import { TransactionalOutbox } from './transactional-outbox.js';

const schema = uniqueName('messaging_outbox');
const drivers: PgDriver[] = [];
let persistence: Persistence;
const buses: MessageBus[] = [];
const relays: OutboxRelay[] = [];

async function connect(applicationName: string): Promise<Persistence> {
  const driver = await createPgDriver({
    connectionString: databaseUrl,
    searchPath: schema,
    applicationName,
    poolSize: 3,
  });
  drivers.push(driver);
  return new Persistence({ driver });
}

function bus(options: ConstructorParameters<typeof MessageBus>[0] = {}): MessageBus {
  const created = new MessageBus({ adapter: new MemoryAdapter(), lagIntervalMs: 0, ...options });
  buses.push(created);
  return created;
}

function relay(
  options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> &
    Pick<ConstructorParameters<typeof OutboxRelay>[0], 'bus'>,
): OutboxRelay {
  const created = new OutboxRelay({ persistence, pollIntervalMs: 60_000, ...options });
  relays.push(created);
  return created;
}

beforeAll(async () => {
  await admin(`CREATE SCHEMA ${schema}`);
  persistence = await connect(`${schema}_app`);
  await persistence.migrate({ migrations: [outboxMigration(), idempotencyMigration()] });
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((created) => created.close()));
  await Promise.all(buses.splice(0).map((created) => created.close({ timeoutMs: 50 })));
  await admin(`TRUNCATE ${schema}.outbox, ${schema}.message_idempotency`);
});

afterAll(async () => {
  await persistence.close();
  await Promise.all(drivers.map((driver) => driver.close()));
  await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

const unsent = async (): Promise<number> =>
  Number((await admin<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.outbox WHERE sent_at IS NULL`))[0]?.n);

describe('transactional outbox on Postgres', () => {
  it('publishes exactly the committed messages, right after commit', async () => {
    const b = bus();
    const got: unknown[] = [];
    await b.subscribe('order.created', (payload) => void got.push(payload)).ready();
    const outbox = new TransactionalOutbox({ bus: b, persistence, relay: relay({ bus: b }) });
    await persistence.withTransaction(async (tx) => {
      await outbox.publish('order.created', { id: 1 }, { key: 'customer-1' });
      await outbox.publish('order.created', { id: 2 }, { tx });
    });
    await persistence
      .withTransaction(async () => {
        await outbox.publish('order.created', { id: 3 });
        throw new Error('payment declined');
      })
      .catch(() => undefined);
    // No polling (60 s): only the after-commit nudge can have delivered these.
    await eventually(() => got.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(got).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await unsent()).toBe(0);
    // Each row holds the wire message as built at write time, body as the serializer wrote it.
    expect(await admin(`SELECT payload FROM ${schema}.outbox ORDER BY id`)).toEqual([
      { payload: expect.objectContaining({ '@infra/messaging.wire': 1, body: '{"id":1}', encoding: 'utf8' }) },
      { payload: expect.objectContaining({ '@infra/messaging.wire': 1, body: '{"id":2}', encoding: 'utf8' }) },
    ]);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const b = bus();
    const got: unknown[] = [];
    await b.subscribe('order.created', (payload) => void got.push(payload)).ready();
    const relayer = relay({ bus: b });
    const outbox = new TransactionalOutbox({ bus: b, persistence, relay: relayer });
    await expect(
      persistence.withTransaction(async () => {
        await outbox.publish('order.created', { id: 'ghost' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await relayer.drain()).toBe(0);
    expect(got).toEqual([]);
    expect(await admin(`SELECT id FROM ${schema}.outbox`)).toEqual([]);
  });

  it('keeps the id, correlation id and time of a message from the outbox write to the handler', async () => {
    const b = bus();
    const got: ReceivedMessage[] = [];
    await b.subscribe('order.created', (_payload, message) => void got.push(message)).ready();
    const outbox = new TransactionalOutbox({ bus: b, persistence });
    const published = await persistence.withTransaction(() =>
      outbox.publish('order.created', { id: 9 }, { correlationId: 'req-9', timestamp: 1_700_000_000_000 }),
    );
    await relay({ bus: b }).drain();
    await eventually(() => got.length === 1);
    expect(got[0]).toMatchObject({ id: published.id, correlationId: 'req-9', timestamp: 1_700_000_000_000 });
    expect(Object.keys(got[0]?.headers ?? {}).filter((name) => name.startsWith('x-outbox'))).toEqual([]);
  });

  it('builds a message once, at write time, and the relay sends it unchanged', async () => {
    let serialized = 0;
    const counting = {
      contentType: 'application/json',
      serialize: (payload: unknown) => {
        serialized += 1;
        return JSON.stringify(payload);
      },
      deserialize: (data: string | Uint8Array): unknown =>
        JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString()),
    };
    const b = bus({ serializer: counting });
    const got: ReceivedMessage[] = [];
    await b.subscribe('order.created', (_payload, message) => void got.push(message)).ready();
    const outbox = new TransactionalOutbox({ bus: b, persistence });
    const published = await persistence.withTransaction(() =>
      outbox.publish('order.created', { b: 2, a: 1 }, { key: 'k', headers: { tenant: 't1' } }),
    );
    expect(serialized).toBe(1);
    await relay({ bus: b }).drain();
    await eventually(() => got.length === 1);
    expect(serialized).toBe(1);
    expect(got[0]).toMatchObject({ id: published.id, key: 'k', payload: { b: 2, a: 1 }, headers: published.headers });
    expect(Object.keys(got[0]?.payload as object)).toEqual(['b', 'a']);
  });

  it('still relays rows written by earlier versions, which carried the id and time in headers', async () => {
    const b = bus();
    const got: ReceivedMessage[] = [];
    await b.subscribe('order.created', (_payload, message) => void got.push(message)).ready();
    await persistence.withTransaction((tx) =>
      addToOutbox(
        tx,
        'order.created',
        { legacy: true },
        {
          headers: {
            'x-outbox-message-id': 'old-1',
            'x-outbox-published-at': '1700000000000',
            'correlation-id': 'c-1',
          },
        },
      ),
    );
    expect(await relay({ bus: b }).drain()).toBe(1);
    await eventually(() => got.length === 1);
    expect(got[0]).toMatchObject({
      id: 'old-1',
      timestamp: 1_700_000_000_000,
      correlationId: 'c-1',
      payload: { legacy: true },
    });
    expect(Object.keys(got[0]?.headers ?? {}).filter((name) => name.startsWith('x-outbox'))).toEqual([]);
  });

  it('redelivers when the relay dies between send and mark; the idempotent consumer drops duplicates', async () => {
    const b = bus();
    let deliveries = 0;
    const effects: number[] = [];
    const store = new PostgresIdempotencyStore({ db: persistence.db });
    await b
      .subscribe(
        'invoice.issued',
        idempotent(
          async (payload: { n: number }) => {
            deliveries += 1;
            effects.push(payload.n);
          },
          { store, onDuplicate: () => void (deliveries += 1) },
        ),
      )
      .ready();
    const outbox = new TransactionalOutbox({ bus: b, persistence });
    await persistence.withTransaction(async () => {
      for (let n = 0; n < 5; n++) await outbox.publish('invoice.issued', { n });
    });
    const relayName = `${schema}_relay`;
    const relayPersistence = await connect(relayName);
    let killed = false;
    const crashing = {
      publishBatch: (requests: Parameters<MessageBus['publishBatch']>[0]) => b.publishBatch(requests),
      publishPrepared: async (messages: Parameters<MessageBus['publishPrepared']>[0]) => {
        const sent = await b.publishPrepared(messages);
        if (!killed) {
          killed = true;
          // The relay's process dies after the broker took the batch, before it marks the rows sent.
          await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
            relayName,
          ]);
        }
        return sent;
      },
    };
    const errors: unknown[] = [];
    const relayer = relay({ bus: crashing, persistence: relayPersistence });
    relayer.on('error', ({ error }) => void errors.push(error));
    expect(await relayer.drain()).toBe(0);
    expect(errors).toEqual([expect.objectContaining({ code: 'CONNECTION_LOST' })]);
    expect(await unsent()).toBe(5);
    expect(await relayer.drain()).toBe(5);
    await eventually(() => deliveries === 10);
    expect(effects.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await unsent()).toBe(0);
    await relayPersistence.close();
  });

  it('delivers by polling what no nudge announced, and never lets one bad row block the others', async () => {
    const strict = bus({
      schemas: { 'user.created': (payload) => typeof (payload as { name?: unknown }).name === 'string' },
    });
    const got: unknown[] = [];
    await strict.subscribe('user.created', (payload) => void got.push(payload)).ready();
    // Written by hand (as another service or an older version might): one row breaks today's schema.
    await persistence.withTransaction(async (tx) => {
      await addToOutbox(tx, 'user.created', { name: 'ada' });
      await addToOutbox(tx, 'user.created', { name: 42 });
      await addToOutbox(tx, 'user.created', { name: 'grace' });
    });
    const errors: unknown[] = [];
    const relayer = relay({ bus: strict, pollIntervalMs: 30 });
    relayer.on('error', ({ error }) => void errors.push(error));
    relayer.start();
    await eventually(() => got.length === 2);
    expect(got).toEqual([{ name: 'ada' }, { name: 'grace' }]);
    expect(errors[0]).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await admin(`SELECT attempts, last_error FROM ${schema}.outbox WHERE sent_at IS NULL`)).toEqual([
      { attempts: 1, last_error: expect.stringContaining('failed validation') },
    ]);
  });

  it('refuses to publish outside a transaction, and a message the bus would refuse', async () => {
    const b = bus();
    const outbox = new TransactionalOutbox({ bus: b, persistence });
    await expect(outbox.publish('t', {})).rejects.toMatchObject({ code: 'NO_TRANSACTION' });
    await persistence.withTransaction(async (tx) => {
      await expect(outbox.publish('t', { n: 1n }, { tx })).rejects.toMatchObject({ code: 'SERIALIZATION_FAILED' });
      await expect(outbox.publish('', {}, { tx })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', option: 'topic' });
    });
    expect(await admin(`SELECT id FROM ${schema}.outbox`)).toEqual([]);
    expect(() => new TransactionalOutbox({ bus: {} as never })).toThrow(expect.objectContaining({ option: 'bus' }));
    expect(() => new OutboxRelay({ persistence, bus: b, batchSize: 0 })).toThrow(
      expect.objectContaining({ option: 'batchSize' }),
    );
  });
});

describe('PostgresIdempotencyStore', () => {
  it('claims once, waits out a live claim, lets an expired one go, and prunes', async () => {
    const store = new PostgresIdempotencyStore({ db: persistence.db });
    await expectIdempotencyClaims(store, 'g:m1');
    expect(await store.claim('g:m2', 'a', 1)).toBe('claimed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.claim('g:m2', 'b', 60_000)).toBe('claimed');
    await store.complete('g:m3', 'x', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.prune()).toBe(1);
    expect(() => new PostgresIdempotencyStore({ db: persistence.db, table: 'x; DROP' })).toThrow(
      expect.objectContaining({ option: 'table' }),
    );
  });
});
