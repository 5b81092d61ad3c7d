import { closedPort, databaseUrl, eventually, redisUrl, uniqueName } from '@infra/test-utils';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../errors.js';
import { MemoryIdempotencyStore, RedisIdempotencyStore, type IdempotencyStore } from '../idempotency-store.js';
import { PostgresIdempotencyStore, idempotencyTableSql } from '../postgres-idempotency-store.js';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import { idempotencyPlugin, type IdempotencyPluginOptions } from './idempotency-plugin.js';
import { registrationError } from '../../test/plugin-registration.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** An app whose `POST /orders` credits an order once per run and can be held or made to fail. */
async function build(options: IdempotencyPluginOptions) {
  const state = { runs: 0, failNext: false, gate: undefined as Promise<void> | undefined };
  const app = Fastify({ logger: false });
  apps.push(app);
  await app.register(errorHandlerPlugin);
  await app.register(idempotencyPlugin, options);
  app.post<{ Body: { amount: number } }>(
    '/orders',
    { schema: { body: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer' } } } } },
    async (request, reply) => {
      state.runs += 1;
      if (state.gate) await state.gate;
      if (state.failNext) {
        state.failNext = false;
        throw new Error('database went away');
      }
      return reply
        .code(201)
        .header('location', `/orders/${state.runs}`)
        .send({ id: state.runs, amount: request.body.amount });
    },
  );
  await app.ready();
  return { app, state };
}

const post = (key: string | undefined, amount: number) => ({
  method: 'POST' as const,
  url: '/orders',
  headers: key === undefined ? {} : { 'idempotency-key': key },
  payload: { amount },
});

function storeContract(name: string, makeStore: () => { store: IdempotencyStore; done: () => Promise<void> }) {
  describe(`idempotencyPlugin on the ${name} store`, () => {
    it('replays the stored response for the same key and body, without running the handler again', async () => {
      const { store, done } = makeStore();
      try {
        const { app, state } = await build({ store });
        const key = uniqueName('k');
        const first = await app.inject(post(key, 5));
        expect(first.statusCode).toBe(201);
        expect(first.headers['idempotent-replayed']).toBeUndefined();
        const again = await app.inject(post(key, 5));
        expect(again.statusCode).toBe(201);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.headers.location).toBe(first.headers.location);
        expect(again.headers['content-type']).toBe(first.headers['content-type']);
        expect(again.json()).toEqual(first.json());
        expect(state.runs).toBe(1);
        // No key: no protection, as before.
        await app.inject(post(undefined, 5));
        await app.inject(post(undefined, 5));
        expect(state.runs).toBe(3);
      } finally {
        await done();
      }
    });

    it('answers 422 for the same key with another body', async () => {
      const { store, done } = makeStore();
      try {
        const { app, state } = await build({ store });
        const key = uniqueName('k');
        expect((await app.inject(post(key, 5))).statusCode).toBe(201);
        const reused = await app.inject(post(key, 6));
        expect(reused.statusCode).toBe(422);
        expect(reused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
        expect(reused.json()).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
        expect(state.runs).toBe(1);
      } finally {
        await done();
      }
    });

    it('answers 409 to a duplicate that arrives while the first still runs', async () => {
      const { store, done } = makeStore();
      try {
        const { app, state } = await build({ store });
        let open!: () => void;
        state.gate = new Promise((resolve) => (open = resolve));
        const key = uniqueName('k');
        const first = app.inject(post(key, 5));
        await eventually(() => state.runs === 1, 20_000);
        const duplicate = await app.inject(post(key, 5));
        expect(duplicate.statusCode).toBe(409);
        expect(duplicate.headers['retry-after']).toBe('1');
        expect(duplicate.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT' });
        open();
        expect((await first).statusCode).toBe(201);
        expect((await app.inject(post(key, 5))).headers['idempotent-replayed']).toBe('true');
        expect(state.runs).toBe(1);
      } finally {
        await done();
      }
    });

    it('frees the key after a 5xx so that a retry runs', async () => {
      const { store, done } = makeStore();
      try {
        const { app, state } = await build({ store });
        state.failNext = true;
        const key = uniqueName('k');
        expect((await app.inject(post(key, 5))).statusCode).toBe(500);
        const retry = await app.inject(post(key, 5));
        expect(retry.statusCode).toBe(201);
        expect(retry.headers['idempotent-replayed']).toBeUndefined();
        expect(state.runs).toBe(2);
      } finally {
        await done();
      }
    });
  });
}

storeContract('memory', () => ({ store: new MemoryIdempotencyStore(), done: async () => {} }));
storeContract('Redis', () => {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const prefix = `${uniqueName('api-idem')}:`;
  return {
    store: new RedisIdempotencyStore({ client, prefix }),
    done: async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    },
  };
});

storeContract('Postgres', () => {
  const schema = uniqueName('api_idem');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'api-idempotency-test' });
  pool.on('error', () => {});
  const store = new PostgresIdempotencyStore({ client: pool, table: `${schema}.keys` });
  const ready = pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).then(() => store.createTable());
  // The contract awaits `begin` first: make every call wait for the table.
  const waiting: IdempotencyStore = {
    begin: async (...args) => {
      await ready;
      return store.begin(...args);
    },
    complete: async (...args) => {
      await ready;
      return store.complete(...args);
    },
    release: async (...args) => {
      await ready;
      return store.release(...args);
    },
  };
  return {
    store: waiting,
    done: async () => {
      await ready;
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
});

describe('PostgresIdempotencyStore', () => {
  it('reuses an expired key and purges expired rows', async () => {
    const schema = uniqueName('api_idem');
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: 'api-idempotency-test' });
    pool.on('error', () => {});
    try {
      await pool.query(`CREATE SCHEMA ${schema}`);
      const store = new PostgresIdempotencyStore({ client: pool, table: `${schema}.keys` });
      await store.createTable();
      expect(await store.begin('k', 'f1', 1)).toEqual({ kind: 'started' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.begin('k', 'f2', 60_000)).toEqual({ kind: 'started' });
      expect(await store.begin('k', 'f3', 60_000)).toEqual({ kind: 'in-flight', fingerprint: 'f2' });
      await store.complete('k', { fingerprint: 'f2', status: 201, headers: {}, body: '{}' }, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.purgeExpired()).toBe(1);
      expect(() => idempotencyTableSql('bad name; drop')).toThrow(/"table"/);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    }
  });
});

describe('idempotencyPlugin', () => {
  it('shares keys between two instances through Redis: concurrent duplicates run once', async () => {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const prefix = `${uniqueName('api-idem')}:`;
    try {
      const store = new RedisIdempotencyStore({ client, prefix });
      const one = await build({ store });
      const two = await build({ store });
      const key = uniqueName('k');
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one.app : two.app).inject(post(key, 7))),
      );
      expect(one.state.runs + two.state.runs).toBe(1);
      for (const answer of answers) expect([201, 409]).toContain(answer.statusCode);
      expect((await two.app.inject(post(key, 7))).headers['idempotent-replayed']).toBe('true');
    } finally {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    }
  });

  it('refuses a bad key, a missing required key and bad options', async () => {
    const { app } = await build({ store: new MemoryIdempotencyStore(), required: true });
    expect((await app.inject(post(undefined, 1))).json()).toMatchObject({
      status: 400,
      code: 'IDEMPOTENCY_KEY_MISSING',
    });
    expect((await app.inject(post('has space', 1))).json()).toMatchObject({
      status: 400,
      code: 'INVALID_IDEMPOTENCY_KEY',
    });
    const bad: unknown[] = [
      {},
      { store: new MemoryIdempotencyStore(), ttlMs: 0 },
      { store: new MemoryIdempotencyStore(), methods: [] },
      { store: new MemoryIdempotencyStore(), scope: 'user' },
    ];
    for (const options of bad) {
      expect(isApiError(await registrationError(idempotencyPlugin, options), 'INVALID_OPTION')).toBe(true);
    }
    expect(() => new RedisIdempotencyStore({ client: {} as never })).toThrow(/"client"/);
  });

  it('answers 503 STORE_UNAVAILABLE without running the handler when the store is away', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: await closedPort(),
      lazyConnect: true,
      enableOfflineQueue: false,
    });
    client.on('error', () => {});
    try {
      const { app, state } = await build({ store: new RedisIdempotencyStore({ client }) });
      const response = await app.inject(post(uniqueName('k'), 1));
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(state.runs).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('expires stored responses after ttlMs', async () => {
    const clock = { now: 1_000_000 };
    const { app, state } = await build({ store: new MemoryIdempotencyStore({ now: () => clock.now }), ttlMs: 1000 });
    const key = uniqueName('k');
    await app.inject(post(key, 1));
    clock.now += 999;
    expect((await app.inject(post(key, 1))).headers['idempotent-replayed']).toBe('true');
    clock.now += 2;
    expect((await app.inject(post(key, 1))).headers['idempotent-replayed']).toBeUndefined();
    expect(state.runs).toBe(2);
  });
});
