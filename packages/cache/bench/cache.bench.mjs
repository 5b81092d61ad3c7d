// Benchmarks for @infra/cache against its peers, in one run. Needs a build (`pnpm build`) and
// Redis (REDIS_URL, default redis://127.0.0.1:6379). Run: node bench/cache.bench.mjs
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Bench } from 'tinybench';
import { InMemoryCacheService } from '../dist/index.js';
import { RedisCacheService, TieredCacheService } from '../dist/redis/index.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `bench:${process.pid}:`;
const value = { id: 1, title: 'Two sum', tags: ['arrays', 'hash'], score: 9.5 };
const time = Number(process.env.BENCH_TIME_MS ?? 1000);

const verdicts = [];
function verdict(label, value, target) {
  verdicts.push(`${Number(value) >= target ? 'MET    ' : 'NOT MET'}  ${label}: ${value}x (target >= ${target}x)`);
}

function ratio(bench, ours, theirs) {
  const hz = (name) =>
    bench.tasks.find((t) => t.name === name)?.result?.throughput?.mean ??
    bench.tasks.find((t) => t.name === name)?.result?.hz;
  return (hz(ours) / hz(theirs)).toFixed(2);
}

async function memory() {
  const bench = new Bench({ time });
  const lru = new LRUCache({ max: 10_000, ttl: 60_000 });
  const ours = new InMemoryCacheService('bench', { maxEntries: 10_000, ttl: 60, serialize: false });
  const oursSerialized = new InMemoryCacheService('bench-s', { maxEntries: 10_000, ttl: 60 });
  lru.set('k', value);
  await ours.set('k', value);
  await oursSerialized.set('k', value);
  let i = 0;
  bench
    .add('lru-cache get hit', () => lru.get('k'))
    // What an application pays for lru-cache behind an async cache interface (as every CacheService is).
    .add('lru-cache get hit (awaited)', async () => lru.get('k'))
    .add('memory get hit (by reference)', () => ours.get('k'))
    .add('memory get hit (serialized, default)', () => oursSerialized.get('k'))
    .add('lru-cache set', () => lru.set(`k${i++ % 5000}`, value))
    .add('lru-cache set (awaited)', async () => lru.set(`k${i++ % 5000}`, value))
    .add('memory set (by reference)', () => ours.set(`k${i++ % 5000}`, value))
    .add('memory getOrSet hit', () => ours.getOrSet('k', () => value));
  await bench.run();
  console.table(bench.table());
  console.log(
    'memory get hit / lru-cache (sync call):',
    ratio(bench, 'memory get hit (by reference)', 'lru-cache get hit'),
  );
  console.log(
    'memory get hit / lru-cache (awaited, like for like):',
    ratio(bench, 'memory get hit (by reference)', 'lru-cache get hit (awaited)'),
  );
  console.log('memory set / lru-cache (sync call):', ratio(bench, 'memory set (by reference)', 'lru-cache set'));
  console.log(
    'memory set / lru-cache (awaited, like for like):',
    ratio(bench, 'memory set (by reference)', 'lru-cache set (awaited)'),
  );
  verdict(
    'memory get hit vs lru-cache (awaited, TTL on)',
    ratio(bench, 'memory get hit (by reference)', 'lru-cache get hit (awaited)'),
    0.8,
  );
  verdict(
    'memory set vs lru-cache (awaited, TTL on)',
    ratio(bench, 'memory set (by reference)', 'lru-cache set (awaited)'),
    0.8,
  );
  await ours.close();
  await oursSerialized.close();
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
  const bench = new Bench({ time });
  bench
    .add('ioredis GET + JSON.parse', async () => JSON.parse(await raw.get(`${keyPrefix}raw:k1`)))
    .add('redis cache get', () => cache.get('k1'))
    .add('redis cache getOrSet hit', () => cache.getOrSet('k1', () => value))
    .add('redis cache zipf get', () => cache.get(zipf()))
    .add('tiered cache zipf get', () => tiered.get(zipf()));
  await bench.run();
  console.table(bench.table());
  console.log('redis get / ioredis GET:', ratio(bench, 'redis cache get', 'ioredis GET + JSON.parse'));
  console.log('tiered / redis on a Zipf mix:', ratio(bench, 'tiered cache zipf get', 'redis cache zipf get'));
  verdict('Redis get vs raw ioredis GET', ratio(bench, 'redis cache get', 'ioredis GET + JSON.parse'), 0.9);
  verdict('tiered vs Redis alone on a Zipf mix', ratio(bench, 'tiered cache zipf get', 'redis cache zipf get'), 5);
  await cache.clear();
  await tiered.clear();
  let cursor = '0';
  do {
    const [next, found] = await raw.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await raw.unlink(...found);
  } while (cursor !== '0');
  await Promise.all([cache.close(), tiered.close(), raw.quit()]);
}

await memory();
await redis();
console.log('\nVerdicts (@infra/cache):');
for (const line of verdicts) console.log(`  ${line}`);
