// Section 5: Redis rate limiter decisions/s vs raw ioredis EVALSHA of the same script.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiter } from '../dist/index.js';
import { RATE_LIMIT_SCRIPT, RATE_LIMIT_SCRIPT_SHA, RedisRateLimiterStore } from '../dist/redis/index.js';
import { int, printGrid, ratio, verdict } from './harness.mjs';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IN_FLIGHT = 64;
const DECISIONS = 10_000;
const KEYS = 1024;
/**
 * Timed rounds per algorithm. Raw and @infra alternate, the order flipping every round, so that a
 * drift in outside load on Redis or the CPU falls on both alike; each reports its best round, as
 * outside load only ever slows a round down.
 */
const ROUNDS = 5;
const RULE = { limit: 100, windowMs: 60_000 };

/** Runs `decide(i)` for i in [0, DECISIONS) with IN_FLIGHT calls outstanding; returns decisions/s. */
async function drive(decide) {
  let next = 0;
  const worker = async () => {
    while (next < DECISIONS) await decide(next++);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return (DECISIONS / (performance.now() - start)) * 1000;
}

async function connect() {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    console.log(`\n5. Redis rate limiter: SKIPPED, Redis at ${REDIS_URL} is unreachable (${error.message})`);
    return undefined;
  }
}

async function deleteKeys(client, prefix) {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}

async function compare(client, prefix, algorithm) {
  const store = new RedisRateLimiterStore({ client, prefix: `${prefix}infra:` });
  const limiter = new RateLimiter({ ...RULE, algorithm, store, name: algorithm });
  const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
  const rawKeys = keys.map((key) => `${prefix}raw:${algorithm}:${key}`);
  const infra = (i) => limiter.consume(keys[i % KEYS]);
  const raw = (i) =>
    client.evalsha(RATE_LIMIT_SCRIPT_SHA, 1, rawKeys[i % KEYS], algorithm, RULE.limit, RULE.windowMs, 1);

  // Same script, same keys: both must reach the same decision, or the comparison means nothing.
  const [rawReply, decision] = await Promise.all([raw(0), infra(0)]);
  if ((rawReply[0] === 1) !== decision.allowed || rawReply[1] !== decision.remaining) {
    throw new Error(`@infra and raw EVALSHA disagree: ${JSON.stringify(rawReply)} vs ${JSON.stringify(decision)}`);
  }
  await drive(raw);
  await drive(infra);
  const rawRates = [];
  const infraRates = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      rawRates.push(await drive(raw));
      infraRates.push(await drive(infra));
    } else {
      infraRates.push(await drive(infra));
      rawRates.push(await drive(raw));
    }
  }
  return { algorithm, raw: Math.max(...rawRates), infra: Math.max(...infraRates), rawRates, infraRates };
}

export async function benchRedisRateLimiter() {
  const client = await connect();
  if (!client) return;
  const prefix = `bench:rl:${randomUUID()}:`;
  try {
    const sha = await client.script('LOAD', RATE_LIMIT_SCRIPT);
    if (sha !== RATE_LIMIT_SCRIPT_SHA)
      throw new Error(`RATE_LIMIT_SCRIPT_SHA ${RATE_LIMIT_SCRIPT_SHA} is not the script's SHA ${sha}`);
    const results = [];
    for (const algorithm of ['token-bucket', 'sliding-window']) results.push(await compare(client, prefix, algorithm));
    const spread = (rates) => `${int(Math.min(...rates))}..${int(Math.max(...rates))}`;
    printGrid(
      `5. Redis rate limiter, ${int(DECISIONS)} decisions over ${KEYS} keys, ${IN_FLIGHT} in flight, ` +
        `one connection (best of ${ROUNDS} rounds)`,
      ['algorithm', 'raw EVALSHA/s', '@infra consume/s', 'infra/raw', 'raw range', '@infra range'],
      results.map((r) => [
        r.algorithm,
        int(r.raw),
        int(r.infra),
        ratio(r.infra, r.raw),
        spread(r.rawRates),
        spread(r.infraRates),
      ]),
      [false, true, true, true, true, true],
    );
    verdict(
      'Redis rate limiter >= 80% of raw EVALSHA',
      results.every((r) => r.infra >= 0.8 * r.raw),
      results.map((r) => `${r.algorithm} ${((r.infra / r.raw) * 100).toFixed(0)}%`).join(', '),
    );
  } finally {
    await deleteKeys(client, prefix);
    await client.quit();
  }
}
