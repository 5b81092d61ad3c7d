import { startPrivateRedis, startTcpProxy, uniqueName, type PrivateRedis, type TcpProxy } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RateLimiter, isResilienceError, type RateLimitDecision, type StoreErrorAction } from '../index.js';
import { RedisRateLimiterStore } from './index.js';

// Faults of the store's Redis: killed, stalled (SIGSTOP), restarted empty, and cut off by a proxy
// that swallows every byte. Each call must answer within storeTimeoutMs plus slack for a busy
// machine, as `onStoreError` says, and the same limiter must use Redis again once it is back.

const STORE_TIMEOUT_MS = 250;
/**
 * Slack on top of the store timeout for a machine shared with other work (event-loop delays of a
 * second or more happen there). A limiter that waited for the store would take as long as the fault
 * lasts, which is longer: the tests keep a fault up until the calls have answered.
 */
const SLACK_MS = 5000;
const POLL = { timeout: 30_000, interval: 50 };

let redis: PrivateRedis;
let admin: Redis;
const consoleErrors: unknown[][] = [];
const warnings: string[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(`${warning.name}: ${warning.message}`);
};

beforeAll(async () => {
  redis = await startPrivateRedis();
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  process.on('warning', onWarning);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    consoleErrors.push(args);
  });
}, 60_000);

afterAll(async () => {
  process.off('warning', onWarning);
  vi.restoreAllMocks();
  admin.disconnect();
  await redis.close();
});

afterEach(() => {
  redis.resume();
  // ioredis prints "Unhandled error event" when a client has no error listener: ours all have one.
  expect(consoleErrors.map((args) => args.map(String).join(' '))).toEqual([]);
  // A listener that throws, or anything else the process would warn about, fails the test too.
  expect(warnings).toEqual([]);
});

interface Outcome {
  elapsedMs: number;
  decision?: RateLimitDecision;
  error?: unknown;
}

async function timed(limiter: RateLimiter, key: string): Promise<Outcome> {
  const start = performance.now();
  try {
    const decision = await limiter.consume(key);
    return { elapsedMs: performance.now() - start, decision };
  } catch (error) {
    return { elapsedMs: performance.now() - start, error };
  }
}

/** What each mode answers while the store is unreachable, for a key with room left. */
function expectAnswer(action: StoreErrorAction, outcome: Outcome): void {
  expect(outcome.elapsedMs).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);
  if (action === 'throw') {
    expect(isResilienceError(outcome.error, 'STORE_UNAVAILABLE')).toBe(true);
    return;
  }
  expect(outcome.error).toBeUndefined();
  expect(outcome.decision?.allowed).toBe(action !== 'fail-closed');
}

function setup(action: StoreErrorAction, url: string) {
  const prefix = `${uniqueName('rl-faults')}:`;
  const store = new RedisRateLimiterStore({ connection: url, prefix, onError: () => undefined });
  const limiter = new RateLimiter({
    name: action,
    limit: 1000,
    windowMs: 60_000,
    store,
    onStoreError: action,
    storeTimeoutMs: STORE_TIMEOUT_MS,
    storeRetryMs: 200,
  });
  const storeErrors: string[] = [];
  limiter.on('storeError', ({ action: answered }) => storeErrors.push(answered));
  /** True once a decision for `key` has been written to Redis: the limiter uses the store again. */
  const reachesRedis = async (key: string): Promise<boolean> => {
    const outcome = await timed(limiter, key);
    expect(outcome.elapsedMs).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);
    return (await admin.exists(`${prefix}${action}:${key}`).catch(() => 0)) === 1;
  };
  return { prefix, store, limiter, storeErrors, reachesRedis };
}

const actions: StoreErrorAction[] = ['throw', 'fail-open', 'fail-closed', 'fallback'];

describe.each(actions)('RateLimiter on Redis with onStoreError: %s', (action) => {
  it('answers while Redis is killed, and uses it again once it is back', { timeout: 90_000 }, async () => {
    const { store, limiter, storeErrors, reachesRedis } = setup(action, redis.url);
    expect(await reachesRedis('k')).toBe(true);
    await redis.kill();
    for (let i = 0; i < 5; i++) expectAnswer(action, await timed(limiter, 'k'));
    expect(storeErrors.length).toBeGreaterThanOrEqual(5);
    expect(new Set(storeErrors)).toEqual(new Set([action]));
    await redis.restart();
    await expect.poll(() => reachesRedis('after-kill'), POLL).toBe(true);
    await limiter.close();
    await store.close();
  });

  it('answers while Redis is stalled (SIGSTOP), and recovers on SIGCONT', { timeout: 90_000 }, async () => {
    const { store, limiter, reachesRedis } = setup(action, redis.url);
    expect(await reachesRedis('k')).toBe(true);
    redis.pause();
    for (let i = 0; i < 5; i++) expectAnswer(action, await timed(limiter, 'k'));
    redis.resume();
    await expect.poll(() => reachesRedis('after-stall'), POLL).toBe(true);
    await limiter.close();
    await store.close();
  });

  it('counts from zero again after a restart that lost the data', { timeout: 90_000 }, async () => {
    const { prefix, store, limiter, reachesRedis } = setup(action, redis.url);
    const small = new RateLimiter({
      name: `${action}-small`,
      limit: 1,
      windowMs: 60_000,
      store,
      onStoreError: action,
      storeTimeoutMs: STORE_TIMEOUT_MS,
      storeRetryMs: 200,
    });
    expect((await small.consume('k')).allowed).toBe(true);
    expect((await small.consume('k')).allowed).toBe(false);
    await redis.restart(); // empty, and without the cached script
    await expect.poll(() => reachesRedis('after-restart'), POLL).toBe(true);
    // Redis forgot the count: the next decision that Redis takes admits the key again.
    const admittedByRedis = async (): Promise<boolean> => {
      const decision = await small.consume('k').catch(() => undefined);
      return decision?.allowed === true && (await admin.exists(`${prefix}${action}-small:k`)) === 1;
    };
    await expect.poll(admittedByRedis, POLL).toBe(true);
    await small.close();
    await limiter.close();
    await store.close();
  });
});

describe('RateLimiter on Redis behind a proxy that swallows every byte', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
  });

  afterAll(async () => {
    await proxy.close();
  });

  it.each(actions)('answers within the store timeout with %s, then recovers', { timeout: 90_000 }, async (action) => {
    const { store, limiter, reachesRedis } = setup(action, `redis://${proxy.address}`);
    expect(await reachesRedis('k')).toBe(true);
    proxy.blackhole();
    for (let i = 0; i < 5; i++) expectAnswer(action, await timed(limiter, 'k'));
    await proxy.restore();
    await expect.poll(() => reachesRedis('after-blackhole'), POLL).toBe(true);
    await limiter.close();
    await store.close();
  });
});

describe('fallback limiter', () => {
  it('applies the same limit in this process while Redis is away', { timeout: 90_000 }, async () => {
    const prefix = `${uniqueName('rl-fallback')}:`;
    const store = new RedisRateLimiterStore({ connection: redis.url, prefix });
    const limiter = new RateLimiter({ limit: 3, windowMs: 60_000, store, onStoreError: 'fallback' });
    await redis.kill();
    const allowed = [];
    for (let i = 0; i < 5; i++) allowed.push((await limiter.consume('k')).allowed);
    expect(allowed).toEqual([true, true, true, false, false]);
    await redis.restart();
    await limiter.close();
    await store.close();
  });
});

describe('ownConnection', () => {
  it(
    'runs on a fail-fast duplicate of an injected client, closed by the store alone',
    { timeout: 90_000 },
    async () => {
      // A client with ioredis's defaults queues commands while Redis is away; the duplicate does not.
      const injected = new Redis(redis.url);
      injected.on('error', () => undefined);
      const prefix = `${uniqueName('rl-own')}:`;
      const store = new RedisRateLimiterStore({
        client: injected,
        ownConnection: true,
        prefix,
        onError: () => undefined,
      });
      const limiter = new RateLimiter({ limit: 10, windowMs: 60_000, store, onStoreError: 'fail-open' });
      expect((await limiter.consume('k')).allowed).toBe(true);
      expect(await admin.exists(`${prefix}default:k`)).toBe(1);
      await redis.kill();
      for (let i = 0; i < 3; i++) expectAnswer('fail-open', await timed(limiter, 'k'));
      await redis.restart();
      await store.close();
      await expect.poll(() => injected.status, POLL).toBe('ready');
      expect(await injected.ping()).toBe('PONG');
      injected.disconnect();
    },
  );
});
