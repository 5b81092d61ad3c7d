import {
  eventually,
  startPrivateRedis,
  startTcpProxy,
  uniqueName,
  type PrivateRedis,
  type TcpProxy,
} from '@infra/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CacheEvents } from '../types.js';
import { TieredCacheService } from './tiered-cache.js';

/**
 * A Redis outage under a tiered cache: the memory tier keeps answering, so the loaders behind
 * `getOrSet` run about once per key instead of once per call, every call answers within its
 * bounds, health says what happened, and the cache recovers by itself when Redis is back.
 */

const commandTimeoutMs = 400;
/** Keys read before the outage (in L1 when it starts) and keys first read during it. */
const warmKeys = Array.from({ length: 20 }, (_, i) => `warm:${i}`);
const coldKeys = Array.from({ length: 10 }, (_, i) => `cold:${i}`);
const outageMs = 2_500;

interface Fault {
  name: string;
  /** Where the caches connect. */
  url: () => string;
  inject: () => Promise<void>;
  heal: () => Promise<void>;
  /** False when the fault is over by the time `inject` returns (a restart). */
  lasts: boolean;
}

let server: PrivateRedis;
let proxy: TcpProxy;
const printed: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeAll(async () => {
  server = await startPrivateRedis();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
  for (const method of ['error', 'warn', 'log'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
    });
  }
  process.on('unhandledRejection', onUnhandled);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  vi.restoreAllMocks();
  await proxy.close();
  await server.close();
});

const faults: Fault[] = [
  {
    name: 'redis-server killed, then started again empty',
    url: () => server.url,
    inject: () => server.kill(),
    heal: () => server.restart(),
    lasts: true,
  },
  {
    name: 'redis-server paused (SIGSTOP), then resumed',
    url: () => server.url,
    inject: async () => {
      server.pause();
    },
    heal: async () => {
      server.resume();
    },
    lasts: true,
  },
  {
    name: 'redis-server restarted with its data lost',
    url: () => server.url,
    inject: () => server.restart(),
    heal: async () => undefined,
    lasts: false,
  },
  {
    name: 'network cut (proxy refuses and drops connections)',
    url: () => `redis://${proxy.address}`,
    inject: () => proxy.cut(),
    heal: () => proxy.restore(),
    lasts: true,
  },
  {
    name: 'network blackhole (proxy stalls traffic)',
    url: () => `redis://${proxy.address}`,
    inject: async () => {
      proxy.blackhole();
    },
    heal: async () => {
      // Stalled connections never recover on their own: drop them and forward again.
      await proxy.cut();
      await proxy.restore();
    },
    lasts: true,
  },
];

const opened: TieredCacheService[] = [];
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close();
  // Whatever a failed test left behind, the next one starts on a healthy server and proxy.
  server.resume();
  if (server.pid === undefined) await server.restart();
  await proxy.cut();
  await proxy.restore();
  expect(unhandled).toEqual([]);
  expect(printed.filter((line) => /unhandled|error event/i.test(line))).toEqual([]);
});

function tiered(name: string, keyPrefix: string, url: string): TieredCacheService {
  const cache = new TieredCacheService(name, {
    connection: url,
    keyPrefix,
    commandTimeoutMs,
    // The first connection may take a while on a busy machine; later ones are the fault's business.
    connectTimeoutMs: 30_000,
    breaker: { consecutiveFailures: 3, resetTimeout: 200 },
  });
  opened.push(cache);
  return cache;
}

describe.each(faults)('tiered cache, $name', (fault) => {
  it('serves from memory, loads each key at most twice, answers in time, reports and recovers', async () => {
    const keyPrefix = `${uniqueName('outage')}:`;
    const cache = tiered('outage', keyPrefix, fault.url());
    const peer = tiered('outage', keyPrefix, fault.url());
    const errors: CacheEvents['error'][] = [];
    cache.on('error', (payload) => errors.push(payload));
    await Promise.all([cache.start(), peer.start()]);

    let loads = 0;
    const loader = ({ key }: { key: string }): Promise<string> => {
      loads++;
      return Promise.resolve(`value of ${key}`);
    };
    const read = async (key: string): Promise<{ value: string; ms: number }> => {
      const started = performance.now();
      const value = await cache.getOrSet(key, loader, { ttl: 300 });
      return { value, ms: performance.now() - started };
    };

    for (const key of warmKeys) await read(key);
    expect(loads).toBe(warmKeys.length);
    expect((await cache.checkHealth()).status).toBe('up');

    await fault.inject();
    if (fault.lasts) {
      // Health answers within its own bound and tells the truth at once, whatever the breaker saw.
      const health = await cache.checkHealth();
      expect(health).toMatchObject({ status: 'down', redis: 'down' });
      expect(health.message).toEqual(expect.any(String));
    }

    loads = 0;
    const slowest: number[] = [];
    const until = performance.now() + outageMs;
    const all = [...warmKeys, ...coldKeys];
    while (performance.now() < until) {
      const round = await Promise.all(all.map((key) => read(key)));
      for (const [i, { value, ms }] of round.entries()) {
        expect(value).toBe(`value of ${all[i]}`);
        slowest.push(ms);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // The requirement: an outage may cost at most two loads per distinct key read.
    expect(loads).toBeLessThanOrEqual(2 * all.length);
    // No call waits for Redis longer than its bounds: a read and a write, each `commandTimeoutMs`
    // (with room for a busy machine, but far from hanging).
    expect(Math.max(...slowest)).toBeLessThan(2 * commandTimeoutMs + 10_000);
    if (fault.lasts) {
      expect(errors.length).toBeGreaterThan(0);
      expect((await cache.checkHealth()).status).toBe('down');
    }

    await fault.heal();
    // Recovery without a restart: Redis answers, and the subscriber is back (a peer's write
    // reaches this instance's memory tier).
    await eventually(async () => (await cache.checkHealth()).status === 'up', 30_000, 50);
    await eventually(async () => (await peer.checkHealth()).status === 'up', 30_000, 50);
    expect(await cache.getOrSet('warm:0', loader)).toBe('value of warm:0');
    const heard: CacheEvents['invalidate'][] = [];
    cache.on('invalidate', (payload) => heard.push(payload));
    await peer.set('warm:0', 'changed by a peer');
    // Through the resubscribed channel, not by waiting for an entry to age out.
    await eventually(() => heard.some(({ keys }) => keys !== 'all' && keys.includes('warm:0')), 30_000, 50);
    await eventually(async () => (await cache.get('warm:0')) === 'changed by a peer', 30_000, 50);
  });
});

describe('l1.outageMaxAgeMs', () => {
  it('stops trusting an L1 entry older than the limit while invalidations cannot arrive', async () => {
    let clock = Date.now();
    const keyPrefix = `${uniqueName('outage_age')}:`;
    const cache = new TieredCacheService('aged', {
      connection: server.url,
      keyPrefix,
      commandTimeoutMs,
      connectTimeoutMs: 30_000,
      now: () => clock,
      l1: { outageMaxAgeMs: 5_000 },
    });
    opened.push(cache);
    await cache.start();
    let loads = 0;
    const loader = (): string => `load ${++loads}`;
    expect(await cache.getOrSet('k', loader, { ttl: 300 })).toBe('load 1');

    await server.kill();
    await eventually(async () => (await cache.checkHealth()).invalidation === 'down', 30_000, 50);
    clock += 4_000;
    expect(await cache.getOrSet('k', loader, { ttl: 300 })).toBe('load 1');
    clock += 2_000;
    // Older than 5 s with no way to hear of a peer's change: loaded again, and kept for 5 s more.
    expect(await cache.getOrSet('k', loader, { ttl: 300 })).toBe('load 2');
    clock += 4_000;
    expect(await cache.getOrSet('k', loader, { ttl: 300 })).toBe('load 2');
    expect(loads).toBe(2);
  });

  it('rejects a bad value, naming it', () => {
    expect(() => new TieredCacheService('bad', { l1: { outageMaxAgeMs: -1 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('l1.outageMaxAgeMs') }),
    );
  });
});
