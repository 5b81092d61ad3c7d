import { describe, expect, it } from 'vitest';
import { InMemoryCacheService } from './memory-cache.js';
import type { CacheEvents } from './types.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const never = (): Promise<never> => new Promise(() => undefined);

describe('getOrSet timeouts and grace', () => {
  it('serves stale at the hard timeout, and reports the background failure', async () => {
    const time = clock();
    const cache = new InMemoryCacheService('hard', { now: time.now, closeTimeoutMs: 0 });
    const stale: CacheEvents['staleServed'][] = [];
    const errors: CacheEvents['error'][] = [];
    cache.on('staleServed', (e) => stale.push(e));
    cache.on('error', (e) => errors.push(e));
    await cache.set('k', 'old', { ttl: 1, grace: 60 });
    time.advance(2_000);
    expect(await cache.getOrSet('k', never, { softTimeoutMs: 10_000, hardTimeoutMs: 20 })).toBe('old');
    expect(stale.map((e) => e.reason)).toEqual(['hard-timeout']);
    expect(errors.map((e) => [e.operation, (e.error as { code?: string }).code])).toEqual([['load', 'LOADER_TIMEOUT']]);
    await cache.close();
  });

  it('serves stale at the soft timeout while the loader goes on and stores its value later', async () => {
    const time = clock();
    const cache = new InMemoryCacheService('soft', { now: time.now });
    await cache.set('k', 'old', { ttl: 1, grace: 60 });
    time.advance(2_000);
    let finish: (value: string) => void = () => undefined;
    const slow = (): Promise<string> =>
      new Promise((resolve) => {
        finish = resolve;
      });
    expect(await cache.getOrSet('k', slow, { softTimeoutMs: 10, ttl: 60 })).toBe('old');
    finish('new');
    await expect.poll(() => cache.get('k'), { timeout: 20_000 }).toBe('new');
    await cache.close();
  });

  it('drops values past their grace period: a miss, not stale', async () => {
    const time = clock();
    const cache = new InMemoryCacheService('grace', { now: time.now, grace: 5 });
    await cache.set('k', 'old', { ttl: 1 });
    time.advance(7_000);
    let hadStale: boolean | undefined;
    expect(
      await cache.getOrSet('k', ({ hasStale }) => {
        hadStale = hasStale;
        return 'new';
      }),
    ).toBe('new');
    expect(hadStale).toBe(false);
    await cache.close();
  });

  it('close() waits for running loaders, then aborts those still running', async () => {
    const cache = new InMemoryCacheService('drain', { closeTimeoutMs: 20 });
    let signal: AbortSignal | undefined;
    const pending = cache.getOrSet('k', (context) => {
      signal = context.signal;
      return never();
    });
    await expect.poll(() => signal, { timeout: 20_000 }).toBeDefined();
    await cache.close();
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as { code?: string }).code).toBe('CACHE_CLOSED');
    void pending.catch(() => undefined);
  });

  it('close({ timeoutMs }) bounds the wait for loaders instead of closeTimeoutMs', async () => {
    const cache = new InMemoryCacheService('drain-now', { closeTimeoutMs: 3_600_000 });
    let signal: AbortSignal | undefined;
    const pending = cache.getOrSet('k', (context) => {
      signal = context.signal;
      return never();
    });
    await expect.poll(() => signal, { timeout: 20_000 }).toBeDefined();
    await cache.close({ timeoutMs: 0 });
    expect(signal?.aborted).toBe(true);
    void pending.catch(() => undefined);
  });

  it('a finished loader lets close() return without waiting for its deadline', async () => {
    const cache = new InMemoryCacheService('drain-done', { closeTimeoutMs: 3_600_000 });
    let finish: ((value: string) => void) | undefined;
    const pending = cache.getOrSet(
      'k',
      () =>
        new Promise<string>((resolve) => {
          finish = resolve;
        }),
    );
    await expect.poll(() => finish, { timeout: 20_000 }).toBeDefined();
    const closing = cache.close();
    finish?.('loaded');
    await closing;
    await expect(pending).resolves.toBe('loaded');
  });

  it('rejects a loader that is not a function and bad lock options, running nothing', async () => {
    const cache = new InMemoryCacheService('bad');
    await expect(cache.getOrSet('k', 'nope' as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(cache.getOrSet('k', () => 1, { lock: { ttlMs: 0 } })).rejects.toThrow(/lock\.ttlMs/);
    expect(await cache.has('k')).toBe(false);
    await cache.close();
  });
});

describe('getOrSet and close', () => {
  it('starts no loader once the cache is closing, even for a call that began before', async () => {
    const { BaseCacheService } = await import('./base-cache.js');
    const { LruStore } = await import('./memory/lru-store.js');
    const inner = new LruStore({ maxEntries: 10, maxBytes: 0, sweepIntervalMs: 0, now: Date.now, onEvict: undefined });
    let answer: (() => void) | undefined;
    // The read of the key is still on its way when close() is called.
    const store = Object.assign(Object.create(inner) as typeof inner, {
      get: (key: string) =>
        new Promise((resolve) => {
          answer = () => {
            resolve(inner.get(key));
          };
        }),
    });
    const cache = new BaseCacheService('closing', store);
    let loads = 0;
    const pending = cache.getOrSet('k', () => ++loads);
    await expect.poll(() => answer, { timeout: 20_000 }).toBeDefined();
    const closing = cache.close();
    answer?.();
    await expect(pending).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
    await closing;
    expect(loads).toBe(0);
  });
});

describe('getOrSet single flight', () => {
  it('does not load again for a caller whose read was answered after the load finished', async () => {
    const { BaseCacheService } = await import('./base-cache.js');
    const { LruStore } = await import('./memory/lru-store.js');
    const inner = new LruStore({
      maxEntries: 10,
      maxBytes: 0,
      sweepIntervalMs: 0,
      now: Date.now,
      onEvict: undefined,
    });
    // The second read of the key is slow: it answers "miss" long after the first caller's load
    // (10 ms) has stored the value, as a Redis GET queued behind a burst would.
    let reads = 0;
    const store = Object.assign(Object.create(inner) as typeof inner, {
      get: async (key: string) => {
        const read = inner.get(key);
        if (++reads === 2) await new Promise((resolve) => setTimeout(resolve, 50));
        return read;
      },
    });
    const cache = new BaseCacheService('slow-read', store);
    let loads = 0;
    const loader = async (): Promise<string> => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return 'value';
    };
    const results = await Promise.all([cache.getOrSet('k', loader), cache.getOrSet('k', loader)]);
    expect(results).toEqual(['value', 'value']);
    expect(loads).toBe(1);
    await cache.close();
  });
});
