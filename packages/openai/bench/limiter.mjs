// Rate-limiter decisions per second: memory store, Redis store, and @infra/resilience's memory
// RateLimiter (one dimension, no refund) as the reference in the same run.
import { Redis } from 'ioredis';
import { MemoryRateLimiterStore, RateLimiter } from '@infra/resilience';
import { MemoryTokenBudgetStore } from '../dist/index.js';
import { RedisTokenBudgetStore } from '../dist/redis/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BUDGET = { windowMs: 60_000, requests: 1e9, tokens: 1e12 };
const KEYS = 1024;

/** Decisions/s of `decide(i)` over `ms` milliseconds, `inFlight` at a time. */
async function rate(decide, ms, inFlight = 1) {
  let count = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) await decide(count++);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (count / (performance.now() - start)) * 1000;
}

export async function benchLimiter() {
  const rows = [];
  const memory = new MemoryTokenBudgetStore();
  const reference = new RateLimiter({
    limit: 1e9,
    windowMs: 60_000,
    algorithm: 'token-bucket',
    store: new MemoryRateLimiterStore(),
  });
  await rate((i) => memory.acquire(`k${i % KEYS}`, BUDGET, 100), 300);
  await rate((i) => reference.consume(`k${i % KEYS}`), 300);
  rows.push({
    name: 'memory: acquire (requests + tokens)',
    perSec: await rate((i) => memory.acquire(`k${i % KEYS}`, BUDGET, 100), 1000),
  });
  rows.push({
    name: 'memory: acquire + usage correction',
    perSec: await rate(async (i) => {
      await memory.acquire(`k${i % KEYS}`, BUDGET, 100);
      await memory.adjust(`k${i % KEYS}`, BUDGET, -40);
    }, 1000),
  });
  rows.push({
    name: 'reference: @infra/resilience RateLimiter (memory)',
    perSec: await rate((i) => reference.consume(`k${i % KEYS}`), 1000),
  });

  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    console.log(`Redis at ${REDIS_URL} unreachable (${error.message}): Redis rows skipped`);
    client.disconnect();
    return rows;
  }
  const prefix = `bench:openai:${process.pid}:`;
  const store = new RedisTokenBudgetStore({ client, prefix });
  await rate((i) => store.acquire(`k${i % KEYS}`, BUDGET, 100), 300, 16);
  rows.push({
    name: 'redis: acquire, 1 in flight',
    perSec: await rate((i) => store.acquire(`k${i % KEYS}`, BUDGET, 100), 1000),
  });
  rows.push({
    name: 'redis: acquire, 64 in flight',
    perSec: await rate((i) => store.acquire(`k${i % KEYS}`, BUDGET, 100), 1000, 64),
  });
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
  await client.quit();
  return rows;
}
