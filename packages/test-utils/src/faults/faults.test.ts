import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, redisUrl, uniqueName } from '../services.js';
import {
  startPrivateKafka,
  startPrivateRedis,
  startTcpProxy,
  terminateBackends,
  withApplicationName,
} from './index.js';

const quiet = { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 } as const;
const clients: Redis[] = [];
function redis(url: string): Redis {
  const client = new Redis(url, quiet);
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

afterAll(() => {
  for (const client of clients) client.disconnect();
});

describe('startTcpProxy', () => {
  const shared = new URL(redisUrl);
  const target = { host: shared.hostname, port: Number(shared.port || 6379) };

  it('forwards, cuts, and forwards again on the same port', async () => {
    const proxy = await startTcpProxy(target);
    const client = redis(`redis://${proxy.address}`);
    await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    const port = proxy.port;
    await proxy.cut();
    await expect(client.ping()).rejects.toThrow();
    await proxy.restore();
    expect(proxy.port).toBe(port);
    await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    await proxy.close();
  });

  it('stalls traffic in blackhole mode until restored', async () => {
    const proxy = await startTcpProxy(target);
    const client = redis(`redis://${proxy.address}`);
    await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    proxy.blackhole();
    let answered = false;
    const pending = client.ping().then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    expect(proxy.connections).toBe(1);
    await proxy.cut();
    await expect(pending).rejects.toThrow();
    await proxy.close();
  });

  it('delays traffic in slow mode, keeping its order', async () => {
    const proxy = await startTcpProxy(target);
    const client = redis(`redis://${proxy.address}`);
    await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    proxy.slow(30);
    const key = uniqueName('proxy');
    const replies = await Promise.all([client.set(key, 'a'), client.append(key, 'b'), client.get(key)]);
    expect(replies).toEqual(['OK', 2, 'ab']);
    await client.del(key);
    await proxy.close();
  });
});

describe('startPrivateRedis', () => {
  it('can be killed, paused and restarted empty', async () => {
    const server = await startPrivateRedis();
    try {
      const client = redis(server.url);
      await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
      await client.set('k', 'v');
      await server.kill();
      expect(server.pid).toBeUndefined();
      await expect(client.get('k')).rejects.toThrow();
      await server.restart();
      await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
      expect(await client.get('k')).toBeNull();

      server.pause();
      const stalled = new Redis(server.url, { ...quiet, commandTimeout: 200, enableOfflineQueue: true });
      stalled.on('error', () => undefined);
      clients.push(stalled);
      await expect(stalled.ping()).rejects.toThrow(/timed out/i);
      server.resume();
      await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    } finally {
      await server.close();
    }
  });
});

describe('terminateBackends', () => {
  it("ends only the backends of the test's own application name", async () => {
    const name = uniqueName('pgfault');
    const mine = new pg.Client({ connectionString: withApplicationName(databaseUrl, name) });
    const other = new pg.Client({ connectionString: databaseUrl });
    const errors: Error[] = [];
    mine.on('error', (error) => errors.push(error));
    await mine.connect();
    await other.connect();
    try {
      expect(await terminateBackends(name)).toBe(1);
      await expect(mine.query('SELECT 1')).rejects.toThrow();
      expect((await other.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
    } finally {
      await mine.end().catch(() => undefined);
      await other.end();
    }
    await expect(terminateBackends("x'; DROP TABLE y; --")).rejects.toThrow(/plain application name/);
  });
});

const java = spawnSync('java', ['-version']).status === 0 && spawnSync('mvn', ['-v']).status === 0;

describe.runIf(java)('startPrivateKafka (needs Java 17+ and Maven)', () => {
  it('starts a broker, survives a SIGKILL with its data, and stops', async () => {
    const { Kafka, logLevel } = await import('kafkajs');
    const broker = await startPrivateKafka();
    try {
      const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20 } });
      const topic = uniqueName('kafka_fault');
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: 'kept' }] });
      await producer.disconnect();
      await broker.kill();
      await broker.start();
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(offsets.map((o) => o.high)).toEqual(['1']);
    } finally {
      await broker.close();
    }
  }, 600_000);
});
