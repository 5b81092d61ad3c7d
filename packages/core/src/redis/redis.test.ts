import { closedPort, redisUrl, uniqueName } from '@infra/test-utils';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  closeClient,
  createRedisClient,
  duplicateClient,
  evalScript,
  isCluster,
  luaScript,
  whenReady,
} from './index.js';

const missingPeer = (message: string): Error => new Error(message);
const prefix = uniqueName('core-redis');
const created: Redis[] = [];

async function client(connection: string, errors: Error[] = [], commandTimeoutMs?: number): Promise<Redis> {
  const redis = await createRedisClient(connection, {
    owner: 'Test',
    onError: (error) => errors.push(error),
    missingPeer,
    connectTimeoutMs: 500,
    ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }),
  });
  created.push(redis);
  return redis;
}

afterAll(async () => {
  const admin = created[0];
  if (admin?.status === 'ready') {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await Promise.all(created.map((c) => closeClient(c)));
});

describe('createRedisClient', () => {
  it('creates a fail-fast client that works once ready', async () => {
    const redis = await client(redisUrl);
    expect(redis.options.enableOfflineQueue).toBe(false);
    expect(redis.options.commandTimeout).toBe(2000);
    await whenReady(redis, 5000, 'Test');
    await redis.set(`${prefix}:a`, '1');
    expect(await redis.get(`${prefix}:a`)).toBe('1');
  });

  it('answers within the bound while the server is unreachable, routing errors to the listener', async () => {
    const errors: Error[] = [];
    const redis = await client(`redis://127.0.0.1:${await closedPort()}`, errors);
    const started = Date.now();
    await expect(whenReady(redis, 300, 'Test')).rejects.toMatchObject({ code: 'NOT_READY', isRetryable: true });
    // No offline queue: a command fails at once instead of waiting for a reconnect.
    await expect(redis.get('k')).rejects.toThrow(/writeable|offline|closed/i);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('rejects whenReady on a closed client', async () => {
    const redis = await client(redisUrl);
    await whenReady(redis, 5000, 'Test');
    await closeClient(redis);
    await expect(whenReady(redis, 100, 'Test')).rejects.toMatchObject({ code: 'NOT_READY' });
  });
});

describe('duplicateClient', () => {
  it('keeps the overrides for a single node', async () => {
    const redis = await client(redisUrl);
    const copy = duplicateClient(redis, { commandTimeout: 12_345 }) as Redis;
    created.push(copy);
    expect(isCluster(copy)).toBe(false);
    expect(copy.options.commandTimeout).toBe(12_345);
    expect(copy.options.enableOfflineQueue).toBe(false);
  });

  it('keeps the overrides for a cluster, under redisOptions', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], {
      lazyConnect: true,
      redisOptions: { commandTimeout: 100, password: 'secret' },
    });
    const copy = duplicateClient(cluster, { commandTimeout: 60_000 }) as Cluster;
    expect(isCluster(copy)).toBe(true);
    expect(copy.options.redisOptions).toMatchObject({ commandTimeout: 60_000, password: 'secret' });
    cluster.disconnect();
    copy.disconnect();
  });
});

describe('evalScript', () => {
  it('runs a script by its SHA and loads it again after SCRIPT FLUSH', async () => {
    const redis = await client(redisUrl);
    await whenReady(redis, 5000, 'Test');
    const script = luaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);
    expect(script.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await evalScript(redis, script, [`${prefix}:n`], [2])).toBe(2);
    await redis.script('FLUSH');
    expect(await evalScript(redis, script, [`${prefix}:n`], [3])).toBe(5);
  });
});
