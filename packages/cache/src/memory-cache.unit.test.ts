import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheEvents } from './types.js';
import { InMemoryCacheService } from './memory-cache.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

describe('InMemoryCacheService', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new InMemoryCacheService('lru', { maxEntries: 3 });
    const evicted: CacheEvents['evict'][] = [];
    cache.on('evict', (e) => evicted.push(e));
    await cache.setMany([1, 2, 3].map((i) => ({ key: `k${i}`, value: i })));
    await cache.get('k1'); // k2 is now the least recently used
    await cache.set('k4', 4);
    expect(await cache.getMany(['k1', 'k2', 'k3', 'k4'])).toEqual([1, undefined, 3, 4]);
    expect(evicted).toEqual([{ cache: 'lru', key: 'k2', reason: 'lru' }]);
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
    await cache.close();
  });

  it('keeps its estimated size under maxBytes and refuses an entry larger than the budget', async () => {
    const cache = new InMemoryCacheService('bytes', { maxBytes: 4096 });
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, 'x'.repeat(500));
    const stats = cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(4096);
    expect(stats.entries).toBeLessThan(20);
    expect(await cache.get('k19')).toBe('x'.repeat(500));
    await cache.set('huge', 'y'.repeat(10_000));
    expect(await cache.has('huge')).toBe(false);
    await cache.close();
  });

  it('overwrites a key in place with its size, recency and tags kept right', async () => {
    const cache = new InMemoryCacheService('overwrite', { maxEntries: 2, serialize: false });
    const only = new InMemoryCacheService('reference', { serialize: false });
    await cache.set('a', 'x');
    await cache.set('b', 'y');
    await cache.set('a', 'x'.repeat(100)); // a is now the most recent: b goes first
    await only.set('a', 'x'.repeat(100));
    await only.set('b', 'y');
    expect(cache.stats().bytes).toBe(only.stats().bytes);
    await cache.set('c', 'z');
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual(['x'.repeat(100), undefined, 'z']);
    // From untagged to tagged and back: the tag index follows the current value only.
    await cache.set('a', 1, { tags: ['t'] });
    await cache.set('a', 2);
    expect(await cache.deleteByTag('t')).toBe(0);
    expect(await cache.get('a')).toBe(2);
    await cache.set('a', 3, { tags: ['t'] });
    expect(await cache.deleteByTag('t')).toBe(1);
    expect(await cache.get('a')).toBeUndefined();
    await cache.close();
    await only.close();
  });

  it('drops the old value when its overwrite is too large to keep', async () => {
    const cache = new InMemoryCacheService('too-large', { maxBytes: 2048 });
    await cache.set('k', 'small');
    await cache.set('k', 'y'.repeat(5000));
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
    await cache.close();
  });

  it('sees a faked clock at once: setSystemTime expires entries without advancing timers', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const cache = new InMemoryCacheService('fake-clock', { ttl: 10, sweepIntervalMs: 0 });
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    vi.setSystemTime(1_000_000 + 10_001);
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });

  it('expires lazily on read, per entry, with the injected clock', async () => {
    const time = clock();
    const cache = new InMemoryCacheService('ttl', { now: time.now, ttl: 10 });
    await cache.set('default', 1);
    await cache.set('short', 2, { ttl: 1 });
    await cache.set('forever', 3, { ttl: 0 });
    time.advance(1_000);
    expect(await cache.getMany(['default', 'short', 'forever'])).toEqual([1, undefined, 3]);
    time.advance(9_000);
    expect(await cache.getMany(['default', 'short', 'forever'])).toEqual([undefined, undefined, 3]);
    expect(cache.stats().expirations).toBe(2);
    await cache.close();
  });

  it("sweeps expired entries nobody reads on an unref'd timer, and stops on close", async () => {
    vi.useFakeTimers();
    const cache = new InMemoryCacheService('sweep', { sweepIntervalMs: 1_000 });
    await cache.set('a', 1, { ttl: 0.5 });
    await cache.set('b', 1, { ttl: 60 });
    expect(cache.stats().entries).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(cache.stats()).toMatchObject({ entries: 1, expirations: 1 });
    expect(vi.getTimerCount()).toBe(1);
    await cache.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps references when serialize is false', async () => {
    const cache = new InMemoryCacheService('refs', { serialize: false });
    const value = { fn: () => 1, big: 1n };
    await cache.set('k', value);
    expect(await cache.get('k')).toBe(value);
    await cache.close();
  });

  it('validates its options, naming the bad one', () => {
    expect(() => new InMemoryCacheService('x', { maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new InMemoryCacheService('x', { maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => new InMemoryCacheService('x', { ttl: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_TTL' }));
    expect(() => new InMemoryCacheService('', {})).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new InMemoryCacheService('x', { getOrSet: { hardTimeoutMs: -1 } })).toThrow(/hardTimeoutMs/);
  });

  it('reports a hit rate and load counters', async () => {
    const cache = new InMemoryCacheService('stats');
    await cache.getOrSet('k', () => 1);
    await cache.getOrSet('k', () => 2);
    await cache.getOrSet('bad', () => Promise.reject(new Error('no'))).catch(() => undefined);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, hitRate: 1 / 3, loads: 2, loadErrors: 1, sets: 1 });
    await cache.close();
  });
});
