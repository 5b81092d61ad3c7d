import { closedPort, eventually, redisUrl, uniqueName } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { CacheManager } from '../cache-manager.js';
import type { CacheEvents } from '../types.js';
import { redisDrivers } from './drivers.js';
import { RedisCacheService } from './redis-cache.js';
import { TieredCacheService } from './tiered-cache.js';

const keyPrefix = `${uniqueName('cache_mgr')}:`;
// Generous connect and command times: a busy machine may take seconds to connect or answer, and
// these tests are about behaviour, not speed.
const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };

it('builds redis and tiered caches from configuration on one shared connection it closes', async () => {
  const manager = new CacheManager({
    defaults: { driver: 'redis', keyPrefix, ttl: 60 },
    caches: { sessions: { driver: 'tiered', namespace: 'sess' } },
    drivers: redisDrivers({ connection: redisUrl, ...patient }),
  });
  const challenges = manager.getCache('challenges');
  const sessions = manager.getCache('sessions');
  expect(challenges).toBeInstanceOf(RedisCacheService);
  expect(sessions).toBeInstanceOf(TieredCacheService);
  await challenges.set('challenge:1', { id: 1 }, { ttl: 3600 });
  await sessions.set('s', 'v');
  expect(await challenges.get('challenge:1')).toEqual({ id: 1 });
  const raw = new Redis(redisUrl);
  expect(await raw.exists(`${keyPrefix}{sess}:v:s`, `${keyPrefix}{challenges}:v:challenge:1`)).toBe(2);
  await challenges.clear();
  await sessions.clear();
  await manager.close();
  await raw.quit();
});

it('never closes an injected client', async () => {
  const client = new Redis(redisUrl);
  const manager = new CacheManager({ defaults: { driver: 'redis', keyPrefix }, drivers: redisDrivers({ client }) });
  const cache = manager.getCache('injected');
  await cache.set('k', 1);
  await cache.clear();
  await manager.close();
  expect(client.status).toBe('ready');
  expect(await client.ping()).toBe('PONG');
  await client.quit();
});

it("reports the shared connection's errors on the error event of each cache that uses it", async () => {
  const manager = new CacheManager({
    defaults: { driver: 'redis', keyPrefix },
    caches: { b: { driver: 'tiered' } },
    drivers: redisDrivers({ connection: `redis://127.0.0.1:${await closedPort()}`, connectTimeoutMs: 200 }),
  });
  const seen: Record<string, CacheEvents['error'][]> = { a: [], b: [] };
  for (const name of ['a', 'b'] as const) {
    const cache = manager.getCache(name);
    cache.on('error', (payload) => seen[name]!.push(payload));
    expect(await cache.get('k')).toBeUndefined();
  }
  await eventually(() => ['a', 'b'].every((name) => seen[name]!.some((e) => e.operation === 'connection')), 20_000);
  const reported = seen.a!.find((e) => e.operation === 'connection')!;
  expect(reported).toMatchObject({ cache: 'a', key: undefined, error: { code: 'CACHE_UNAVAILABLE' } });
  await manager.close();
});
