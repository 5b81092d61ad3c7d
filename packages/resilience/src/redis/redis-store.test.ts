import { rateLimiterStoreContract, redisUrl, uniqueName } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RateLimiter, isResilienceError } from '../index.js';
import { RedisRateLimiterStore } from './index.js';

const prefix = uniqueName('rl-redis');
const admin = new Redis(redisUrl, { lazyConnect: true });

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
  await admin.quit();
});

// Each store owns its connection, so the concurrency test runs several real clients. The contract
// is about decisions, not the 250 ms production bounds (the fault tests hold those): a busy machine
// gets time to connect and answer.
const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };
rateLimiterStoreContract({
  name: 'redis',
  create: () => new RedisRateLimiterStore({ connection: redisUrl, prefix: `${prefix}:`, ...patient }),
  shared: true,
  keyPrefix: 'contract',
});

describe('RedisRateLimiterStore', () => {
  it('uses an injected client without closing it, and loads the script after SCRIPT FLUSH', async () => {
    const client = new Redis(redisUrl);
    const store = new RedisRateLimiterStore({ client, prefix: `${prefix}:injected:` });
    const limiter = new RateLimiter({
      limit: 2,
      windowMs: 60_000,
      algorithm: 'fixed-window',
      store,
      storeTimeoutMs: 30_000,
    });
    await client.script('FLUSH');
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect((await limiter.consume('k')).allowed).toBe(true);
    await expect(limiter.limit('k')).rejects.toMatchObject({ code: 'RATE_LIMITED', limit: 2 });
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it('reports an unreachable Redis as STORE_UNAVAILABLE, or fails open/closed as configured', async () => {
    const client = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const store = new RedisRateLimiterStore({ client, prefix: `${prefix}:down:` });
    const strict = new RateLimiter({ limit: 1, windowMs: 1000, store });
    const error: unknown = await strict.consume('k').catch((e: unknown) => e);
    expect(isResilienceError(error, 'STORE_UNAVAILABLE')).toBe(true);
    const open = new RateLimiter({ limit: 1, windowMs: 1000, store, onStoreError: 'allow' });
    expect((await open.consume('k')).allowed).toBe(true);
    const closed = new RateLimiter({ limit: 1, windowMs: 1000, store, onStoreError: 'deny' });
    expect((await closed.consume('k')).allowed).toBe(false);
    client.disconnect();
  });

  it('refuses use after close and requires a client or connection', async () => {
    const store = new RedisRateLimiterStore({ connection: redisUrl, prefix: `${prefix}:closed:` });
    await store.consume('k', { algorithm: 'token-bucket', limit: 1, windowMs: 1000 }, 1);
    await store.close();
    await expect(store.consume('k', { algorithm: 'token-bucket', limit: 1, windowMs: 1000 }, 1)).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    expect(() => new RedisRateLimiterStore({})).toThrow(/client/);
  });
});
