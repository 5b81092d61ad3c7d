import { startPrivateRedis, type PrivateRedis } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { FaultBuses, healthStatus as status, pause, publishRetrying } from '../../test/fault-kit.js';
import type { MessageBus } from '../message-bus.js';
import { createRedisAdapter } from './redis-adapter.js';

// Faults run against a redis-server of this file's own: the shared one is never stopped or flushed.
let server: PrivateRedis;
let admin: Redis;
let consoleError: MockInstance<typeof console.error>;
const faults = new FaultBuses();
const { connectionErrors } = faults;
const wait = { timeout: 30_000, interval: 50 };

async function bus(options: { commandTimeoutMs?: number } = {}): Promise<MessageBus> {
  const adapter = await createRedisAdapter({
    connection: server.url,
    blockMs: 200,
    connectTimeoutMs: 1000,
    ...options,
  });
  return faults.bus(adapter);
}

/** Publishes `count` messages `{ i }`, retrying each until Redis accepts it; returns the ids accepted. */
const publishAll = (b: MessageBus, topic: string, count: number, from = 0): Promise<string[]> =>
  publishRetrying(b, topic, count, { from, payload: (i) => ({ i }), code: 'PUBLISH_FAILED' });

beforeAll(async () => {
  consoleError = vi.spyOn(console, 'error');
  server = await startPrivateRedis();
  admin = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
  admin.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  await faults.close(500);
  admin.disconnect();
  await server.close();
  // Every failure went to the bus's events: ioredis printed nothing.
  const printed = consoleError.mock.calls.map((args) => args.map(String).join(' '));
  consoleError.mockRestore();
  expect(printed.filter((line) => line.includes('Unhandled error event'))).toEqual([]);
});

describe('redis streams under faults', () => {
  it('handles every message published after Redis restarts with its data lost', async () => {
    const b = await bus();
    const topic = 'restart.lost';
    const handled = new Set<string>();
    await b.subscribe(topic, (_payload, message) => void handled.add(message.id), { group: 'g' }).ready();
    const before = await publishAll(b, topic, 20);
    await expect.poll(() => handled.size, wait).toBe(20);
    expect(await status(b)).toBe('pass');

    await server.kill();
    await expect.poll(() => status(b), wait).toBe('fail');
    await server.restart();
    // Published into a stream that Redis has just created again, before the consumer noticed its group is gone.
    const after = await publishAll(b, topic, 100, 20);
    await expect.poll(() => after.filter((id) => handled.has(id)).length, wait).toBe(100);
    await expect.poll(() => status(b), wait).toBe('pass');
    expect(new Set([...before, ...after]).size).toBe(120);
    expect(connectionErrors.length).toBeGreaterThan(0);
  }, 120_000);

  it('goes back to pass by itself once Redis answers again, however long it was away', async () => {
    const b = await bus();
    const topic = 'restart.health';
    const handled: number[] = [];
    await b.subscribe(topic, (payload: { i: number }) => void handled.push(payload.i), { group: 'g' }).ready();
    await server.kill();
    await expect.poll(() => status(b), wait).toBe('fail');
    // Down long enough for many failed reads: how soon consuming resumes does not depend on it, since
    // the waits between attempts are capped (checked exactly in redis-adapter.test.ts).
    await pause(3_000);
    await server.restart();
    await expect.poll(() => admin.ping().catch(() => 'down'), wait).toBe('PONG');
    await expect.poll(() => status(b), wait).toBe('pass');
    expect(b.subscriptions[0]?.failure).toBeUndefined();
    await publishAll(b, topic, 5);
    await expect.poll(() => handled.length, wait).toBe(5);
  }, 120_000);

  it('fails fast while Redis is down (SIGKILL), then recovers without a restart of the bus', async () => {
    const b = await bus({ commandTimeoutMs: 500 });
    const topic = 'killed';
    const handled = new Set<string>();
    await b.subscribe(topic, (_payload, message) => void handled.add(message.id), { group: 'g' }).ready();
    await server.kill();
    const started = Date.now();
    await expect(b.publish(topic, { lost: true })).rejects.toMatchObject({ code: 'PUBLISH_FAILED', isRetryable: true });
    // Within the connect bound (1 s), with room for a busy machine: nothing waits for Redis to come back.
    expect(Date.now() - started).toBeLessThan(1_000 + 5_000);
    await server.restart();
    const ids = await publishAll(b, topic, 50);
    await expect.poll(() => ids.filter((id) => handled.has(id)).length, wait).toBe(50);
    await expect.poll(() => status(b), wait).toBe('pass');
  }, 120_000);

  it('times calls out while Redis is stalled (SIGSTOP), and nothing hangs', async () => {
    const b = await bus({ commandTimeoutMs: 500 });
    const topic = 'stalled';
    const handled: number[] = [];
    await b.subscribe(topic, (payload: { i: number }) => void handled.push(payload.i), { group: 'g' }).ready();
    server.pause();
    try {
      const started = Date.now();
      await expect(b.publish(topic, { i: -1 })).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
      expect(Date.now() - started).toBeLessThan(500 + 5_000);
      const health = await b.healthCheck();
      expect(health).toMatchObject({ status: 'fail', connected: false });
      // The blocking read times out too (blockMs + commandTimeoutMs): the subscription reports it.
      await expect.poll(() => b.subscriptions[0]?.failure, wait).toBeDefined();
    } finally {
      server.resume();
    }
    await expect.poll(() => status(b), wait).toBe('pass');
    await publishAll(b, topic, 10);
    await expect.poll(() => handled.filter((i) => i >= 0).length, wait).toBe(10);
  }, 120_000);

  it('closes within its deadline while Redis is stalled', async () => {
    const b = await bus({ commandTimeoutMs: 500 });
    await b.subscribe('stalled.close', () => undefined, { group: 'g' }).ready();
    server.pause();
    try {
      await b.close({ timeoutMs: 500 });
      expect(b.closed).toBe(true);
    } finally {
      server.resume();
    }
  }, 60_000);

  it('says fail while a consumer cannot fetch although Redis answers, and pass once it can', async () => {
    const b = await bus();
    const topic = 'wrong.type';
    const handled: number[] = [];
    await b.subscribe(topic, (payload: { i: number }) => void handled.push(payload.i), { group: 'g' }).ready();
    // Data lost, then the key taken by something else: the group cannot be created again.
    await server.restart();
    await expect.poll(() => admin.ping().catch(() => 'down'), wait).toBe('PONG');
    await admin.set(topic, 'not a stream');
    await expect
      .poll(() => b.healthCheck(), wait)
      .toMatchObject({ status: 'fail', connected: true, output: expect.stringMatching(/wrong\.type\/g: .*WRONGTYPE/) });
    await admin.del(topic);
    await expect.poll(() => status(b), wait).toBe('pass');
    await publishAll(b, topic, 3);
    await expect.poll(() => handled.length, wait).toBe(3);
  }, 120_000);
});
