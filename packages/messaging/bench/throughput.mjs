// Publish→handle throughput and latency: the memory bus next to a bare EventEmitter, and the
// Redis Streams adapter next to raw ioredis sending the same commands (XADD pipelines,
// XREADGROUP + XACK), in the same run.
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { MemoryAdapter, MessageBus } from '../dist/index.js';
import { createRedisAdapter } from '../dist/redis/index.js';
import { ROUNDS, best, percentile, rate, until } from './stats.mjs';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * The i-th payload, built as a producer builds one: an object literal. (`{ ...template, i }` would
 * measure V8 instead: on Node 20 such a copy costs about 0.7 µs and makes JSON.stringify of it
 * about 0.9 µs slower, more than the bus itself spends per message.)
 */
const payloadOf = (i) => ({
  userId: 'user-42',
  challengeId: 'challenge-7',
  score: 87,
  timestamp: '2024-05-01T10:00:00.000Z',
  i,
});
const CHUNK = 1000;
/** A memory round takes a fraction of a second: more of them let the best one miss the machine's noise. */
const MEMORY_ROUNDS = Math.max(ROUNDS, 7);
const PUBLISH_ROUNDS = Math.max(ROUNDS, 5);

/**
 * One round of publish→handle on `bus`: a subscription to `topic` (with `subscribe` options) handles
 * `count` messages published in chunks of CHUNK; `yieldEachChunk` lets the event loop turn between
 * chunks. Throughput runs from the first publish to the last message handled; latency is from a
 * message's chunk being published to its handler.
 */
async function publishHandleRound(bus, topic, count, { subscribe, yieldEachChunk = false }) {
  const sentAt = new Float64Array(count);
  const latency = new Float64Array(count);
  let handled = 0;
  const subscription = bus.subscribe(
    topic,
    (message) => {
      latency[handled++] = performance.now() - sentAt[message.i];
    },
    subscribe,
  );
  await subscription.ready();
  const start = performance.now();
  for (let offset = 0; offset < count; offset += CHUNK) {
    const batch = [];
    const now = performance.now();
    for (let i = offset; i < Math.min(count, offset + CHUNK); i++) {
      sentAt[i] = now;
      batch.push({ topic, payload: payloadOf(i) });
    }
    await bus.publishBatch(batch);
    if (yieldEachChunk) await new Promise((resolve) => setImmediate(resolve));
  }
  await until(() => handled === count);
  const ms = performance.now() - start;
  await subscription.close();
  return { rate: rate(count, ms), p50: percentile(latency, count, 50), p99: percentile(latency, count, 99) };
}

/** Memory bus: publishBatch in chunks while one subscription (concurrency 64) handles. */
export async function memoryPublishHandle(count) {
  return best(
    async () => {
      const bus = new MessageBus({ adapter: new MemoryAdapter({ maxLen: count }), lagIntervalMs: 0 });
      // The memory bus hands messages over on this thread: let it run between chunks, as a
      // producer serving requests would.
      const result = await publishHandleRound(bus, 'bench.memory', count, {
        subscribe: { concurrency: 64, maxInFlight: 2048 },
        yieldEachChunk: true,
      });
      await bus.close();
      return result;
    },
    { warmup: 2, rounds: MEMORY_ROUNDS },
  );
}

/** The floor: an EventEmitter handing the same payloads (JSON round trip included) to a listener. */
export async function eventEmitterBaseline(count) {
  return best(
    async () => {
      const emitter = new EventEmitter();
      let handled = 0;
      emitter.on('m', (body) => {
        JSON.parse(body);
        handled++;
      });
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        emitter.emit('m', JSON.stringify(payloadOf(i)));
        if (i % CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await until(() => handled === count);
      return { rate: rate(count, performance.now() - start) };
    },
    { warmup: 2, rounds: MEMORY_ROUNDS },
  );
}

/** What a hand-written producer would send: an id and a JSON body (no trace or correlation headers). */
function fields(i) {
  return ['i', `id-${i}`, 'b', JSON.stringify(payloadOf(i))];
}

/** A bus on the Redis Streams adapter with a client of its own; `close()` closes both. */
async function redisBus(count, prefix, adapterOptions = {}) {
  const client = new Redis(redisUrl);
  const adapter = await createRedisAdapter({ client, prefix, maxLen: count * 2, ...adapterOptions });
  const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
  const close = async () => {
    await bus.close();
    await client.quit();
  };
  return { client, adapter, bus, close };
}

/** Batched publish to a stream: the bus (publishBatch) and raw ioredis (pipelined XADD), same fields. */
export async function redisPublish(count, prefix) {
  const { client, bus, close } = await redisBus(count, prefix);
  const ours = await best(
    async (round) => {
      const topic = `bench.publish.${round}`;
      const start = performance.now();
      for (let offset = 0; offset < count; offset += CHUNK) {
        const batch = [];
        for (let i = offset; i < Math.min(count, offset + CHUNK); i++) batch.push({ topic, payload: payloadOf(i) });
        await bus.publishBatch(batch);
      }
      return { rate: rate(count, performance.now() - start), topic };
    },
    { warmup: 1, rounds: PUBLISH_ROUNDS },
  );
  const raw = await best(
    async (round) => {
      const key = `${prefix}bench.raw.${round}`;
      const start = performance.now();
      for (let offset = 0; offset < count; offset += CHUNK) {
        const pipeline = client.pipeline();
        for (let i = offset; i < Math.min(count, offset + CHUNK); i++)
          pipeline.xadd(key, 'MAXLEN', '~', count * 2, '*', ...fields(i));
        await pipeline.exec();
      }
      return { rate: rate(count, performance.now() - start), key };
    },
    { warmup: 1, rounds: PUBLISH_ROUNDS },
  );
  await close();
  return { ours, raw };
}

/** Consume + ack a filled stream: a bus subscription and a raw XREADGROUP/XACK loop, same batch size. */
export async function redisConsume(count, prefix) {
  const { client, adapter, bus, close } = await redisBus(count, prefix, { batchSize: CHUNK, blockMs: 100 });
  const fill = async (topic) => {
    for (let offset = 0; offset < count; offset += CHUNK) {
      const batch = [];
      for (let i = offset; i < Math.min(count, offset + CHUNK); i++) batch.push({ topic, payload: payloadOf(i) });
      await bus.publishBatch(batch);
    }
  };
  const ours = await best(
    async (round) => {
      const topic = `bench.consume.${round}`;
      await fill(topic);
      let handled = 0;
      const start = performance.now();
      const subscription = bus.subscribe(topic, () => void handled++, {
        group: 'bench',
        startFrom: 'earliest',
        concurrency: 64,
        maxInFlight: 4 * CHUNK,
      });
      await until(() => handled === count);
      const ms = performance.now() - start;
      await subscription.close();
      const { pending } = await adapter.backlog(topic, 'bench');
      if (pending !== 0) throw new Error(`${pending} messages left unacknowledged`);
      return { rate: rate(count, ms) };
    },
    { warmup: 1 },
  );
  const raw = await best(
    async (round) => {
      const topic = `bench.consume.raw.${round}`;
      await fill(topic);
      const key = adapter.streamKey(topic);
      await client.xgroup('CREATE', key, 'bench', '0');
      const reader = client.duplicate();
      let handled = 0;
      const start = performance.now();
      while (handled < count) {
        const reply = await reader.xreadgroup(
          'GROUP',
          'bench',
          'c1',
          'COUNT',
          CHUNK,
          'BLOCK',
          100,
          'STREAMS',
          key,
          '>',
        );
        const entries = reply?.[0]?.[1] ?? [];
        const ids = [];
        for (const [id, values] of entries) {
          JSON.parse(values[values.indexOf('b') + 1]);
          ids.push(id);
          handled++;
        }
        if (ids.length > 0) await client.xack(key, 'bench', ...ids);
      }
      const ms = performance.now() - start;
      await reader.quit();
      return { rate: rate(count, ms) };
    },
    { warmup: 1 },
  );
  await close();
  return { ours, raw };
}

/** Publish→handle through Redis with a live subscription: throughput and latency. */
export async function redisPublishHandle(count, prefix) {
  const { bus, close } = await redisBus(count, prefix, { batchSize: CHUNK, blockMs: 100 });
  const result = await best(
    async (round) => {
      return publishHandleRound(bus, `bench.e2e.${round}`, count, {
        subscribe: { group: 'bench', concurrency: 64, maxInFlight: 4 * CHUNK },
      });
    },
    { warmup: 1 },
  );
  await close();
  return result;
}
