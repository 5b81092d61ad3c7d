import { closedPort, eventually, expectIdempotencyClaims, redisUrl, uniqueName } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AdapterSubscription, Delivery } from '../adapter.js';
import { MessageBus } from '../message-bus.js';
import { createRedisAdapter, type RedisStreamsAdapter } from './redis-adapter.js';
import { RedisIdempotencyStore } from './redis-idempotency-store.js';

const prefix = `${uniqueName('messaging_streams')}:`;
let client: Redis;
const buses: MessageBus[] = [];

/** The first deliveries a raw adapter subscription returns (a fetch may come back empty). */
async function fetchSome(subscription: AdapterSubscription): Promise<Delivery[]> {
  for (let i = 0; i < 50; i++) {
    const got = await subscription.fetch(10, new AbortController().signal);
    if (got.length > 0) return got;
  }
  return [];
}

async function bus(
  options: Parameters<typeof createRedisAdapter>[0] = {},
): Promise<{ bus: MessageBus; adapter: RedisStreamsAdapter }> {
  const adapter = await createRedisAdapter({ client, prefix, blockMs: 100, ...options });
  const created = new MessageBus({ adapter, lagIntervalMs: 0 });
  buses.push(created);
  return { bus: created, adapter };
}

beforeAll(() => {
  client = new Redis(redisUrl);
});

afterAll(async () => {
  await Promise.all(buses.map((created) => created.close({ timeoutMs: 50 })));
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

describe('redis streams adapter', () => {
  it('claims with XAUTOCLAIM what a consumer that crashed (never closed) left pending', async () => {
    const { bus: live, adapter } = await bus({ claimIdleMs: 200 });
    const topic = 'crash.claim';
    const dead = await adapter.subscribe({ topic, group: 'g', consumer: 'dead', startFrom: 'latest' });
    const { id } = await live.publish(topic, { n: 1 });
    const [taken] = await fetchSome(dead);
    expect(taken?.message.id).toBe(id);
    // `dead` neither acknowledges nor closes: its process is gone.
    const got: { id: string; deliveryCount: number }[] = [];
    await live
      .subscribe(
        topic,
        (_payload, message) => void got.push({ id: message.id, deliveryCount: message.deliveryCount }),
        { group: 'g' },
      )
      .ready();
    await eventually(() => got.length === 1);
    expect(got).toEqual([{ id, deliveryCount: 2 }]);
    await eventually(async () => (await adapter.backlog(topic, 'g')).pending === 0);
  });

  it('never claims back to itself an entry whose acknowledgement is still on its way', async () => {
    const { bus: live, adapter } = await bus({ claimIdleMs: 50 });
    const topic = 'ack.in.flight';
    const consumer = await adapter.subscribe({ topic, group: 'g', consumer: 'only', startFrom: 'latest' });
    await live.publish(topic, { n: 1 });
    const taken = await fetchSome(consumer);
    expect(taken).toHaveLength(1);
    // The handler was slow: the entry has sat pending for longer than claimIdleMs when it finishes.
    await new Promise((resolve) => setTimeout(resolve, 120));
    const acked = consumer.ack(taken);
    // The next fetch runs XAUTOCLAIM before the batched XACK has gone out.
    const again = await consumer.fetch(10, new AbortController().signal);
    await acked;
    expect(again).toEqual([]);
    expect((await adapter.backlog(topic, 'g')).pending).toBe(0);
    await consumer.close([]);
  });

  it('gives a restarted consumer (same name) its own unacknowledged history first', async () => {
    const { bus: live, adapter } = await bus({ claimIdleMs: 60_000 });
    const topic = 'restart.history';
    const before = await adapter.subscribe({ topic, group: 'g', consumer: 'worker-1', startFrom: 'latest' });
    const { id } = await live.publish(topic, { n: 1 });
    expect(await fetchSome(before)).toHaveLength(1);
    const got: string[] = [];
    await live
      .subscribe(topic, (_payload, message) => void got.push(message.id), { group: 'g', consumerName: 'worker-1' })
      .ready();
    await eventually(() => got.length === 1);
    expect(got).toEqual([id]);
  });

  it('publishes a batch in one command per stream, in order, and trims streams to about maxLen', async () => {
    const { bus: live, adapter } = await bus({ maxLen: 10 });
    await live.publishBatch(Array.from({ length: 3 }, (_, i) => ({ topic: 'ordered', payload: { i } })));
    const entries = await client.xrange(adapter.streamKey('ordered'), '-', '+');
    expect(entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('b') + 1] ?? 'null') as unknown)).toEqual([
      { i: 0 },
      { i: 1 },
      { i: 2 },
    ]);
    await live.publishBatch(Array.from({ length: 1000 }, (_, i) => ({ topic: 'trimmed', payload: { i } })));
    const length = await client.xlen(adapter.streamKey('trimmed'));
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(1000);
  });

  it('keeps publish order per stream across chunks and topics, with maxLen 0, after a script flush', async () => {
    const { bus: live, adapter } = await bus({ maxLen: 0 });
    const bodies = async (topic: string) =>
      (await client.xrange(adapter.streamKey(topic), '-', '+')).map(
        ([, fields]) => JSON.parse(fields[fields.indexOf('b') + 1] ?? 'null') as unknown,
      );
    // 1,300 messages alternating between two topics: three chunks for each stream.
    const batch = Array.from({ length: 2600 }, (_, n) => ({
      topic: n % 2 === 0 ? 'chunks.even' : 'chunks.odd',
      payload: { n },
    }));
    await live.publishBatch(batch);
    expect(await bodies('chunks.even')).toEqual(batch.filter((m) => m.topic === 'chunks.even').map((m) => m.payload));
    expect(await bodies('chunks.odd')).toEqual(batch.filter((m) => m.topic === 'chunks.odd').map((m) => m.payload));
    // After SCRIPT FLUSH (or a Redis restart) the script is sent again, and nothing is lost.
    await client.script('FLUSH');
    await live.publishBatch([
      { topic: 'chunks.even', payload: { n: 'after flush' } },
      { topic: 'chunks.even', payload: { n: 'last' } },
    ]);
    expect((await bodies('chunks.even')).slice(-2)).toEqual([{ n: 'after flush' }, { n: 'last' }]);
    expect(await client.xlen(adapter.streamKey('chunks.even'))).toBe(1302);
    // The envelope round-trips: what a subscriber receives is what was published.
    const got: { id: string; key: string | null; n: unknown }[] = [];
    const published = await live.publishBatch([
      { topic: 'chunks.envelope', payload: { n: 1 }, key: 'k-1', headers: { 'x-extra': 'yes' } },
      { topic: 'chunks.envelope', payload: { n: 2 } },
    ]);
    await live
      .subscribe(
        'chunks.envelope',
        (payload: { n: number }, message) => void got.push({ id: message.id, key: message.key, n: payload.n }),
        { group: 'g', startFrom: 'earliest' },
      )
      .ready();
    await eventually(() => got.length === 2);
    expect(got).toEqual([
      { id: published[0]!.id, key: 'k-1', n: 1 },
      { id: published[1]!.id, key: null, n: 2 },
    ]);
  });

  it('reports lag and pending from XINFO GROUPS', async () => {
    const { bus: live, adapter } = await bus();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await live.subscribe('lagging', () => gate, { group: 'slow', maxInFlight: 2, concurrency: 2 }).ready();
    for (let i = 0; i < 5; i++) await live.publish('lagging', { i });
    await eventually(async () => (await adapter.backlog('lagging', 'slow')).pending === 2);
    expect(await adapter.backlog('lagging', 'slow')).toEqual({ pending: 2, lag: 3 });
    expect(await adapter.backlog('lagging', 'nobody')).toEqual({ pending: 0, lag: null });
    expect(await adapter.backlog('never.published', 'g')).toEqual({ pending: 0, lag: 0 });
    release();
  });

  it('never closes an injected client; quits the one it created', async () => {
    const injected = await bus();
    await injected.bus.close();
    expect(client.status).toBe('ready');
    const owned = await createRedisAdapter({ connection: redisUrl, prefix });
    await owned.ping();
    await owned.close();
    await eventually(() => owned.client.status === 'end');
  });

  it('fails its health check while Redis is unreachable', async () => {
    const adapter = await createRedisAdapter({
      connection: { port: await closedPort(), host: '127.0.0.1', retryStrategy: () => 50 },
    });
    const down = new MessageBus({ adapter, lagIntervalMs: 0, healthTimeoutMs: 200 });
    try {
      expect(await down.healthCheck()).toMatchObject({ status: 'fail', componentId: 'redis', connected: false });
      await expect(down.publish('t', {})).rejects.toMatchObject({ code: 'PUBLISH_FAILED', isRetryable: true });
    } finally {
      await down.close();
    }
  });

  it('validates how it connects', async () => {
    vi.stubEnv('REDIS_URL', '');
    try {
      await expect(createRedisAdapter()).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'connection' });
    } finally {
      vi.unstubAllEnvs();
    }
    await expect(createRedisAdapter({ connection: 'http://localhost' })).rejects.toMatchObject({
      option: 'connection',
    });
    await expect(createRedisAdapter({ client, maxLen: -1 })).rejects.toMatchObject({ option: 'maxLen' });
    await expect(createRedisAdapter({ client: {} as never })).rejects.toMatchObject({ option: 'client' });
  });
});

describe('RedisIdempotencyStore', () => {
  it('claims once, reports busy and done, and releases only its own claim', async () => {
    const store = new RedisIdempotencyStore({ client, prefix: `${prefix}idem:` });
    await expectIdempotencyClaims(store, 'm1', 5_000, 60_000);
    expect(await client.pttl(`${prefix}idem:m1`)).toBeGreaterThan(50_000);
  });

  it('lets a claim whose lease expired be taken over', async () => {
    const store = new RedisIdempotencyStore({ client, prefix: `${prefix}idem:` });
    expect(await store.claim('m2', 'a', 30)).toBe('claimed');
    await eventually(async () => (await store.claim('m2', 'b', 5_000)) === 'claimed', 2_000);
  });
});
