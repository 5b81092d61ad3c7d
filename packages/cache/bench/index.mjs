// @infra/cache against its peers, in one process, on the built package (dist/). Needs Redis
// (REDIS_URL, default redis://127.0.0.1:6379) for the redis and stampede sections.
// Run: node --expose-gc bench/index.mjs [memory] [redis] [stampede]   (no argument: all sections)
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { measure, print, ratioOf, verdict, verdicts } from './harness.mjs';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('@infra/cache is not built: run `pnpm --filter @infra/cache build` first');
  process.exit(1);
}
const { InMemoryCacheService } = await import('../dist/index.js');
const { RedisCacheService, TieredCacheService } = await import('../dist/redis/index.js');

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `bench:${process.pid}:`;
const value = { id: 1, title: 'Two sum', tags: ['arrays', 'hash'], score: 9.5 };

async function memory() {
  const lru = new LRUCache({ max: 10_000, ttl: 60_000 });
  const byReference = new InMemoryCacheService('bench', { maxEntries: 10_000, ttl: 60, serialize: false });
  const serialized = new InMemoryCacheService('bench-s', { maxEntries: 10_000, ttl: 60 });
  lru.set('k', value);
  await byReference.set('k', value);
  await serialized.set('k', value);
  let i = 0;
  const results = await measure([
    { name: 'lru-cache get', sync: true, call: () => lru.get('k') },
    // What an application pays for lru-cache behind an async interface, as every CacheService is.
    { name: 'lru-cache get, awaited', call: async () => lru.get('k') },
    { name: 'memory get (by reference)', call: () => byReference.get('k') },
    { name: 'memory get (serialized, default)', call: () => serialized.get('k') },
    { name: 'memory getOrSet hit (by reference)', call: () => byReference.getOrSet('k', () => value) },
    { name: 'lru-cache set', sync: true, call: () => lru.set(`k${i++ % 5000}`, value) },
    { name: 'lru-cache set, awaited', call: async () => lru.set(`k${i++ % 5000}`, value) },
    { name: 'memory set (by reference)', call: () => byReference.set(`k${i++ % 5000}`, value) },
    { name: 'memory set (serialized, default)', call: () => serialized.set(`k${i++ % 5000}`, value) },
  ]);
  print('memory: one key hit, sets over 5000 keys; TTL on (ratio: ops/s against the named row)', results, {
    'memory get (by reference)': 'lru-cache get, awaited',
    'memory get (serialized, default)': 'lru-cache get, awaited',
    'memory getOrSet hit (by reference)': 'lru-cache get, awaited',
    'lru-cache get, awaited': 'lru-cache get',
    'memory set (by reference)': 'lru-cache set, awaited',
    'memory set (serialized, default)': 'lru-cache set, awaited',
  });
  verdict(
    'memory get hit vs lru-cache awaited',
    ratioOf(results, 'memory get (by reference)', 'lru-cache get, awaited'),
    0.8,
  );
  verdict(
    'memory set vs lru-cache awaited',
    ratioOf(results, 'memory set (by reference)', 'lru-cache set, awaited'),
    0.8,
  );
  await byReference.close();
  await serialized.close();
}

async function redis() {
  const raw = new Redis(redisUrl);
  const cache = new RedisCacheService('bench', { connection: redisUrl, keyPrefix });
  const tiered = new TieredCacheService('bench-t', { connection: redisUrl, keyPrefix });
  await cache.start();
  await tiered.start();
  const keys = Array.from({ length: 1000 }, (_, n) => `k${n}`);
  for (const key of keys) {
    await cache.set(key, value);
    await tiered.set(key, value);
    await raw.set(`${keyPrefix}raw:${key}`, JSON.stringify(value));
  }
  // Zipf(s=1) over 1000 keys: a few hot keys take most reads, as in real traffic.
  const weights = keys.map((_, n) => 1 / (n + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf = [];
  weights.reduce((acc, w, n) => (cdf[n] = acc + w / total), 0);
  const zipf = () => {
    const r = Math.random();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return keys[lo];
  };
  const results = await measure([
    { name: 'ioredis GET + JSON.parse', batch: 16, call: async () => JSON.parse(await raw.get(`${keyPrefix}raw:k1`)) },
    { name: 'redis cache get', batch: 16, call: () => cache.get('k1') },
    { name: 'redis cache getOrSet hit', batch: 16, call: () => cache.getOrSet('k1', () => value) },
    { name: 'redis cache, Zipf get', batch: 16, call: () => cache.get(zipf()) },
    { name: 'tiered cache, Zipf get', batch: 16, call: () => tiered.get(zipf()) },
  ]);
  print('redis: sequential awaited calls (ratio: ops/s against the named row)', results, {
    'redis cache get': 'ioredis GET + JSON.parse',
    'redis cache getOrSet hit': 'ioredis GET + JSON.parse',
    'tiered cache, Zipf get': 'redis cache, Zipf get',
  });
  verdict('Redis get vs raw ioredis GET', ratioOf(results, 'redis cache get', 'ioredis GET + JSON.parse'), 0.9);
  verdict(
    'tiered vs Redis alone on a Zipf mix',
    ratioOf(results, 'tiered cache, Zipf get', 'redis cache, Zipf get'),
    5,
  );
  await cache.clear();
  await tiered.clear();
  await unlinkAll(raw);
  await Promise.all([cache.close(), tiered.close(), raw.quit()]);
}

/**
 * Stampede protection: `callers` concurrent getOrSet calls on a key nobody has loaded. Compared with
 * what an application writes without it (get, then load and set on a miss), it runs the loader
 * once instead of once per caller.
 */
async function stampede() {
  const callers = 1000;
  const memory = new InMemoryCacheService('stampede', { maxEntries: 100_000, ttl: 60 });
  const redisCache = new RedisCacheService('stampede', { connection: redisUrl, keyPrefix });
  await redisCache.start();
  let loads = 0;
  const load = () =>
    new Promise((resolve) => {
      loads++;
      setImmediate(() => resolve(value));
    });
  const naive = async (cache, key) => {
    const cached = await cache.get(key);
    if (cached !== undefined) return cached;
    const loaded = await load();
    await cache.set(key, loaded);
    return loaded;
  };
  let n = 0;
  const burst = (cache, fn) => async () => {
    const key = `cold${n++}`;
    await Promise.all(Array.from({ length: callers }, () => fn(cache, key)));
  };
  const tasks = [
    { name: 'memory getOrSet', batch: 1, call: burst(memory, (cache, key) => cache.getOrSet(key, load)) },
    { name: 'memory get, load, set', batch: 1, call: burst(memory, naive) },
    { name: 'redis getOrSet', batch: 1, call: burst(redisCache, (cache, key) => cache.getOrSet(key, load)) },
    { name: 'redis get, load, set', batch: 1, call: burst(redisCache, naive) },
  ];
  const loadsPerBurst = {};
  for (const task of tasks) {
    const before = loads;
    await task.call();
    loadsPerBurst[task.name] = loads - before;
  }
  const results = await measure(tasks);
  print(`stampede: bursts of ${callers} concurrent callers on a cold key (ops/s = bursts/s)`, results, {
    'memory getOrSet': 'memory get, load, set',
    'redis getOrSet': 'redis get, load, set',
  });
  console.log('loader runs per burst:', loadsPerBurst);
  await redisCache.clear();
  await Promise.all([memory.close(), redisCache.close()]);
}

async function unlinkAll(raw) {
  let cursor = '0';
  do {
    const [next, found] = await raw.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await raw.unlink(...found);
  } while (cursor !== '0');
}

const sections = { memory, redis, stampede };
const chosen = process.argv.slice(2);
for (const name of chosen) if (!(name in sections)) throw new Error(`Unknown section "${name}"`);
console.log(
  `@infra/cache benchmarks: node ${process.version}; sections: ${(chosen.length ? chosen : Object.keys(sections)).join(', ')}`,
);
for (const [name, run] of Object.entries(sections)) if (chosen.length === 0 || chosen.includes(name)) await run();
console.log('\nVerdicts (@infra/cache):');
for (const line of verdicts) console.log(`  ${line}`);
