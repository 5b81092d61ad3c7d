import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './services.js';

/** The shape of a cache this suite checks (see @infra/cache CacheService). */
interface SetOptions {
  ttl?: number;
  grace?: number;
  tags?: readonly string[];
}
interface LoaderContext {
  signal: AbortSignal;
  hasStale: boolean;
}
interface GetOrSetOptions extends SetOptions {
  softTimeoutMs?: number;
  hardTimeoutMs?: number;
  lock?: boolean | { ttlMs?: number; waitMs?: number; pollMs?: number };
}
interface Cache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  getMany(keys: readonly string[]): Promise<unknown[]>;
  setMany(entries: readonly ({ key: string; value: unknown } & SetOptions)[], options?: SetOptions): Promise<void>;
  clear(): Promise<void>;
  deleteByTag(tag: string | readonly string[]): Promise<number>;
  getOrSet(key: string, loader: (context: LoaderContext) => unknown, options?: GetOrSetOptions): Promise<unknown>;
  on(event: 'hit' | 'miss' | 'stampedeDedup' | 'staleServed', listener: (payload: { key: string }) => void): () => void;
  stats(): { hits: number; misses: number; sets: number; stampedeDedups: number; staleServed: number };
  close(options?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface CacheStoreContractOptions {
  /** Shown in the suite's title. */
  name: string;
  /**
   * Creates a cache. Two calls with the same `name` must share a namespace: on a distributed
   * store they see each other's entries. The factory puts a run-unique prefix on its keys.
   */
  create: (options: { name: string; ttl?: number; grace?: number }) => Cache | Promise<Cache>;
  capabilities: {
    /** Separate instances with the same name share entries (Redis, tiered). */
    shared: boolean;
    /** `getOrSet({ lock: true })` coordinates loaders across instances. */
    distributedLock: boolean;
  };
}

/** How long an eventual condition may take: generous, so that a loaded machine never fails a test. */
const DEADLINE_MS = 20_000;

const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return 'resolved';
}

/**
 * Behaviour every cache must have: faithful round trips (null distinct from a miss, Dates),
 * TTL in seconds, namespaces that never collide, bulk operations, tags, coded errors for bad
 * input with nothing written, and `getOrSet` with single-flight and stale-while-revalidate.
 */
export function cacheStoreContract(options: CacheStoreContractOptions): void {
  describe(`cache store contract: ${options.name}`, () => {
    const caches: Cache[] = [];
    let n = 0;
    const make = async (settings: { name?: string; ttl?: number; grace?: number } = {}): Promise<Cache> => {
      const cache = await options.create({ name: settings.name ?? `c${String(n++)}`, ...settings });
      caches.push(cache);
      return cache;
    };

    afterAll(async () => {
      for (const cache of caches) await cache.clear().catch(() => undefined);
      for (const cache of caches) await cache.close();
    });

    it('works as the documented usage uses it: miss is undefined, set with ttl in seconds, then hit', async () => {
      const cache = await make();
      const id = 42;
      expect(await cache.get(`challenge:${id}`)).toBeUndefined();
      const challenge = { id, title: 'Two sum', tags: ['arrays'], score: 9.5, draft: false };
      await cache.set(`challenge:${id}`, challenge, { ttl: 3600 });
      expect(await cache.get(`challenge:${id}`)).toEqual(challenge);
    });

    it('round-trips values faithfully: null is a value, Dates stay Dates, falsy values survive', async () => {
      const cache = await make();
      const values: Record<string, unknown> = {
        nil: null,
        zero: 0,
        no: false,
        empty: '',
        list: [1, 'two', { three: [3] }, null],
        text: 'héllo ✓ \n "quoted"',
        nested: { at: new Date('2024-05-06T07:08:09.010Z'), inner: { when: new Date(0) } },
      };
      for (const [key, value] of Object.entries(values)) await cache.set(key, value);
      for (const [key, value] of Object.entries(values)) expect(await cache.get(key)).toEqual(value);
      const nested = (await cache.get('nested')) as { at: unknown };
      expect(nested.at).toBeInstanceOf(Date);
      expect(await cache.has('nil')).toBe(true);
      expect(await cache.has('absent')).toBe(false);
    });

    it('returns a copy: mutating a value read or written does not change the cached one', async () => {
      const cache = await make();
      const value = { count: 1 };
      await cache.set('k', value);
      value.count = 2;
      const read = (await cache.get('k')) as { count: number };
      read.count = 3;
      expect(await cache.get('k')).toEqual({ count: 1 });
    });

    it('expires entries after their ttl (seconds)', async () => {
      const cache = await make();
      // Long enough to be read back at once on a loaded machine, short enough to watch it go.
      await cache.set('short', 'v', { ttl: 2 });
      await cache.set('long', 'v', { ttl: 600 });
      expect(await cache.get('short')).toBe('v');
      await eventually(async () => (await cache.get('short')) === undefined, DEADLINE_MS);
      expect(await cache.get('long')).toBe('v');
    });

    it('applies the default ttl of the cache', async () => {
      const cache = await make({ ttl: 2 });
      await cache.set('k', 1);
      expect(await cache.get('k')).toBe(1);
      await eventually(async () => !(await cache.has('k')), DEADLINE_MS);
    });

    it('deletes, reporting whether an entry was removed', async () => {
      const cache = await make();
      await cache.set('k', 'v');
      expect(await cache.delete('k')).toBe(true);
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.delete('k')).toBe(false);
    });

    it('gets and sets many in one call, in order, with misses as undefined', async () => {
      const cache = await make();
      await cache.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: null, ttl: 60 },
        { key: 'c', value: { c: true } },
      ]);
      expect(await cache.getMany(['c', 'missing', 'a', 'b'])).toEqual([{ c: true }, undefined, 1, null]);
      expect(await cache.getMany([])).toEqual([]);
    });

    it('keeps namespaces apart: same key in two caches, clear() touches only its own', async () => {
      const a = await make();
      const b = await make();
      await a.set('shared-key', 'from a');
      await b.set('shared-key', 'from b');
      expect(await a.get('shared-key')).toBe('from a');
      await a.clear();
      expect(await a.get('shared-key')).toBeUndefined();
      expect(await b.get('shared-key')).toBe('from b');
    });

    it('deletes by tag, sparing untagged entries and entries re-set without the tag', async () => {
      const cache = await make();
      await cache.set('t1', 1, { tags: ['user:1'] });
      await cache.set('t2', 2, { tags: ['user:1', 'list'] });
      await cache.set('t3', 3, { tags: ['list'] });
      await cache.set('plain', 4);
      await cache.set('retagged', 5, { tags: ['user:1'] });
      await cache.set('retagged', 6);
      expect(await cache.deleteByTag('user:1')).toBe(2);
      expect(await cache.getMany(['t1', 't2', 't3', 'plain', 'retagged'])).toEqual([undefined, undefined, 3, 4, 6]);
      expect(await cache.deleteByTag(['list', 'nothing'])).toBe(1);
      expect(await cache.get('t3')).toBeUndefined();
    });

    it('rejects bad keys and ttls with a code, writing nothing', async () => {
      const cache = await make();
      await cache.set('k', 'before');
      expect(await codeOf(cache.get(''))).toBe('INVALID_KEY');
      expect(await codeOf(cache.get(42 as unknown as string))).toBe('INVALID_KEY');
      expect(await codeOf(cache.set(undefined as unknown as string, 1))).toBe('INVALID_KEY');
      expect(await codeOf(cache.set('k', 'after', { ttl: -1 }))).toBe('INVALID_TTL');
      expect(await codeOf(cache.set('k', 'after', { ttl: Number.NaN }))).toBe('INVALID_TTL');
      expect(await codeOf(cache.set('k', 'after', { ttl: '60' as unknown as number }))).toBe('INVALID_TTL');
      expect(await codeOf(cache.getOrSet('k2', () => 1, { ttl: -5 }))).toBe('INVALID_TTL');
      expect(await cache.get('k')).toBe('before');
      expect(await cache.has('k2')).toBe(false);
    });

    it('rejects values it cannot store faithfully with UNSERIALIZABLE_VALUE, writing nothing', async () => {
      const cache = await make();
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      const bad: unknown[] = [
        10n,
        { n: 1n },
        cycle,
        () => 1,
        { f: () => 1 },
        new Map(),
        undefined,
        [undefined],
        Number.NaN,
      ];
      for (const value of bad) {
        expect(await codeOf(cache.set('bad', value))).toBe('UNSERIALIZABLE_VALUE');
      }
      expect(
        await codeOf(
          cache.setMany([
            { key: 'ok', value: 1 },
            { key: 'bad', value: 1n },
          ]),
        ),
      ).toBe('UNSERIALIZABLE_VALUE');
      expect(await cache.getMany(['bad', 'ok'])).toEqual([undefined, undefined]);
    });

    it('counts hits and misses and emits them', async () => {
      const cache = await make();
      const seen: string[] = [];
      cache.on('hit', ({ key }) => seen.push(`hit:${key}`));
      cache.on('miss', ({ key }) => seen.push(`miss:${key}`));
      await cache.get('k');
      await cache.set('k', 1);
      await cache.get('k');
      expect(seen).toEqual(['miss:k', 'hit:k']);
      const stats = cache.stats();
      expect([stats.hits, stats.misses, stats.sets]).toEqual([1, 1, 1]);
    });

    describe('getOrSet', () => {
      it('runs the loader once for 1000 concurrent callers on a cold key', async () => {
        const cache = await make();
        let calls = 0;
        let dedups = 0;
        cache.on('stampedeDedup', () => dedups++);
        const loader = async (): Promise<{ v: number }> => {
          calls++;
          await pause(20);
          return { v: 7 };
        };
        const results = await Promise.all(
          Array.from({ length: 1000 }, () => cache.getOrSet('cold', loader, { ttl: 60 })),
        );
        expect(calls).toBe(1);
        expect(dedups).toBe(999);
        expect(results.every((r) => (r as { v: number }).v === 7)).toBe(true);
        expect(await cache.getOrSet('cold', loader)).toEqual({ v: 7 });
        expect(calls).toBe(1);
      });

      it('caches null from a loader, and caches nothing when the loader fails or returns undefined', async () => {
        const cache = await make();
        expect(await cache.getOrSet('nil', () => null)).toBeNull();
        expect(await cache.getOrSet('nil', () => 'other')).toBeNull();
        await expect(cache.getOrSet('boom', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
        expect(await cache.has('boom')).toBe(false);
        expect(await cache.getOrSet('undef', () => undefined)).toBeUndefined();
        expect(await cache.has('undef')).toBe(false);
      });

      it('serves the stale value while one refresh runs, then the fresh one', async () => {
        const cache = await make();
        await cache.getOrSet('swr', () => 'v1', { ttl: 0.05, grace: 60 });
        await eventually(async () => (await cache.get('swr')) === undefined, DEADLINE_MS);
        let calls = 0;
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const reasons: unknown[] = [];
        cache.on('staleServed', (payload) => reasons.push((payload as { reason?: unknown }).reason));
        const loader = async (): Promise<string> => {
          calls++;
          await gate;
          return 'v2';
        };
        const first = await Promise.all([1, 2, 3].map(() => cache.getOrSet('swr', loader, { ttl: 60, grace: 60 })));
        expect(first).toEqual(['v1', 'v1', 'v1']);
        expect(reasons).toEqual(['refreshing', 'refreshing', 'refreshing']);
        release();
        await eventually(async () => (await cache.get('swr')) === 'v2', DEADLINE_MS);
        expect(await cache.getOrSet('swr', loader)).toBe('v2');
        expect(calls).toBe(1);
      });

      it('serves the stale value when the loader fails, and waits up to the soft timeout', async () => {
        const cache = await make();
        await cache.set('grace', 'old', { ttl: 0.05, grace: 60 });
        await eventually(async () => (await cache.get('grace')) === undefined, DEADLINE_MS);
        const failing = (): Promise<string> => Promise.reject(new Error('source down'));
        // The soft timeout is far longer than the loaders take, however loaded the machine.
        expect(await cache.getOrSet('grace', failing, { softTimeoutMs: 60_000 })).toBe('old');
        // A loader faster than the soft timeout wins over the stale value.
        expect(await cache.getOrSet('grace', () => Promise.resolve('new'), { softTimeoutMs: 60_000, ttl: 60 })).toBe(
          'new',
        );
      });

      it('fails a slow loader with LOADER_TIMEOUT at the hard timeout and aborts its signal', async () => {
        const cache = await make();
        let aborted = false;
        const slow = ({ signal }: LoaderContext): Promise<string> =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
            setTimeout(() => {
              resolve('late');
            }, 500);
          });
        expect(await codeOf(cache.getOrSet('slow', slow, { hardTimeoutMs: 30 }))).toBe('LOADER_TIMEOUT');
        expect(aborted).toBe(true);
      });
    });

    it('throws CACHE_CLOSED after close(), which is idempotent and what asyncDispose calls', async () => {
      const cache = await options.create({ name: `closed${String(n++)}` });
      await cache.set('k', 'before');
      await cache.close({ timeoutMs: 1000 });
      await cache.close();
      await cache[Symbol.asyncDispose]();
      expect(await codeOf(cache.get('k'))).toBe('CACHE_CLOSED');
      expect(await codeOf(cache.set('k', 1))).toBe('CACHE_CLOSED');
    });

    describe.runIf(options.capabilities.shared)('shared between instances', () => {
      it('sees entries written by another instance of the same namespace, and their updates', async () => {
        const name = `shared${String(n++)}`;
        const a = await make({ name });
        const b = await make({ name });
        await a.set('k', 'v1');
        expect(await b.get('k')).toBe('v1');
        await a.set('k', 'v2');
        await eventually(async () => (await b.get('k')) === 'v2', DEADLINE_MS);
        await a.delete('k');
        await eventually(async () => (await b.get('k')) === undefined, DEADLINE_MS);
      });
    });

    describe.runIf(options.capabilities.distributedLock)('distributed lock', () => {
      it('lets one of several instances run the loader while the others wait for its value', async () => {
        const name = `locked${String(n++)}`;
        const instances = await Promise.all([1, 2, 3, 4].map(() => make({ name })));
        let calls = 0;
        const loader = async (): Promise<string> => {
          calls++;
          await pause(100);
          return 'once';
        };
        const results = await Promise.all(
          instances.map((cache) => cache.getOrSet('k', loader, { ttl: 60, lock: { waitMs: DEADLINE_MS, pollMs: 10 } })),
        );
        expect(results).toEqual(['once', 'once', 'once', 'once']);
        expect(calls).toBe(1);
      });
    });
  });
}
