import { closedPort, eventually, redisUrl, uniqueName } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../test/tcp-proxy.js';
import type { CacheEvents, CacheService } from '../types.js';
import { RedisCacheService } from './redis-cache.js';
import { TieredCacheService } from './tiered-cache.js';

const keyPrefix = `${uniqueName('cache_down')}:`;
const target = new URL(redisUrl);
const admin = new Redis(redisUrl);
const opened: CacheService[] = [];

function track<T extends CacheService>(cache: T): { cache: T; errors: CacheEvents['error'][] } {
  opened.push(cache);
  const errors: CacheEvents['error'][] = [];
  cache.on('error', (payload) => errors.push(payload));
  return { cache, errors };
}

const fastBreaker = { consecutiveFailures: 3, resetTimeout: 50 };
// Where Redis is up at first, generous connect and command times: a busy machine may take seconds
// to connect or answer, and these tests are about what happens when it goes away.
const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };

afterEach(async () => {
  for (const cache of opened.splice(0)) {
    await cache.clear().catch(() => undefined);
    await cache.close();
  }
});

afterAll(async () => {
  await admin.quit();
});

describe('Redis down from the start (closed port)', () => {
  it('turns reads into misses, drops writes, keeps getOrSet working, and opens the breaker', async () => {
    const port = await closedPort();
    const { cache, errors } = track(
      new RedisCacheService('down', {
        connection: { host: '127.0.0.1', port },
        keyPrefix,
        breaker: { ...fastBreaker, resetTimeout: 60_000 },
      }),
    );
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 'v');
    expect(await cache.has('k')).toBe(false);
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    expect(await cache.delete('k')).toBe(false);
    expect(await cache.getOrSet('k', () => 'from source')).toBe('from source');
    expect(cache.stats().breaker).toBe('open');
    const commands = errors.filter(({ operation }) => operation !== 'connection');
    expect(commands.length).toBeGreaterThanOrEqual(5);
    for (const { error } of errors) expect((error as { code?: string }).code).toBe('CACHE_UNAVAILABLE');
    // Once open, calls are refused by the breaker without reaching for the connection.
    const last = commands.at(-1)?.error as { cause?: { code?: string } };
    expect(last.cause?.code).toBe('CIRCUIT_OPEN');
    // The client's own connection errors are reported too (never printed by ioredis), with their cause.
    await eventually(() => errors.some(({ operation }) => operation === 'connection'), 20_000);
    const connection = errors.find(({ operation }) => operation === 'connection')?.error as { cause?: unknown };
    expect(connection.cause).toMatchObject({ code: 'ECONNREFUSED' });
    await expect(cache.start()).rejects.toMatchObject({ code: 'CACHE_UNAVAILABLE' });
  });

  it('throws CACHE_UNAVAILABLE instead when failOpen is off', async () => {
    const port = await closedPort();
    const { cache } = track(
      new RedisCacheService('strict', { connection: { host: '127.0.0.1', port }, keyPrefix, failOpen: false }),
    );
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'CACHE_UNAVAILABLE' });
    await expect(cache.set('k', 1)).rejects.toMatchObject({ code: 'CACHE_UNAVAILABLE' });
  });
});

describe('Redis dying mid-test and coming back', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    await proxy.start();
  });

  afterAll(async () => {
    await proxy.stop();
  });

  for (const kind of ['redis', 'tiered'] as const) {
    it(`${kind}: misses while Redis is away, keeps the app working, and recovers by itself`, async () => {
      const options = {
        connection: { host: '127.0.0.1', port: proxy.port },
        keyPrefix,
        breaker: fastBreaker,
        ...patient,
      };
      const { cache, errors } = track(
        kind === 'redis'
          ? new RedisCacheService(`proxy-${kind}`, options)
          : new TieredCacheService(`proxy-${kind}`, options),
      );
      await cache.set('k', 'before');
      expect(await cache.get('k')).toBe('before');

      await proxy.stop();
      if (kind === 'redis') {
        await eventually(async () => (await cache.get('k')) === undefined, 20_000);
      } else {
        // The memory tier keeps answering through the outage (for `l1.outageMaxAgeMs`).
        expect(await cache.get('k')).toBe('before');
      }
      await cache.set('k2', 'dropped');
      // Redis refused the write; a tiered cache keeps it in memory for a while, a Redis cache drops it.
      expect(await cache.get('k2')).toBe(kind === 'redis' ? undefined : 'dropped');
      expect(await cache.getOrSet('k3', () => 'computed')).toBe('computed');
      expect(errors.length).toBeGreaterThan(0);
      // Open, or already half-open when its short reset timeout has passed: not closed.
      expect(cache.stats().breaker).not.toBe('closed');

      await proxy.start();
      await eventually(async () => (await cache.get('k')) === 'before', 20_000, 50);
      // Once the subscriber is back, the memory tier is forgotten: what Redis never took is gone.
      await eventually(async () => (await cache.get('k2')) === undefined, 20_000, 50);
      await cache.set('k4', 'after');
      expect(await cache.get('k4')).toBe('after');
      expect(cache.stats().breaker).toBe('closed');
    });
  }
});

describe('connection killed by the server (CLIENT KILL)', () => {
  it('keeps working through the kill and serves hits again once reconnected', async () => {
    const connectionName = uniqueName('killme');
    const { cache } = track(
      new RedisCacheService('killed', {
        connection: { ...redisOptions(), connectionName },
        keyPrefix,
        breaker: fastBreaker,
        ...patient,
      }),
    );
    await cache.set('k', { ok: true });
    const list = await admin.client('LIST');
    const id = /id=(\d+) [^\n]*name=([^ ]+)/g;
    const ids = [...(list as string).matchAll(id)].filter((m) => m[2] === connectionName).map((m) => m[1]!);
    expect(ids).toHaveLength(1);
    await admin.client('KILL', 'ID', ids[0]!);
    // Right after the kill a read may miss, but never throws.
    const during = await cache.get('k');
    expect(during === undefined || (during as { ok: boolean }).ok).toBe(true);
    await eventually(async () => (await cache.get<{ ok: boolean }>('k'))?.ok === true, 20_000, 50);
  });
});

function redisOptions(): { host: string; port: number } {
  return { host: target.hostname, port: Number(target.port || 6379) };
}
