import { closedPort, redisUrl, startFakeOpenAIServer, uniqueName, type FakeOpenAIServer } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiterStore } from '@infra/resilience/redis';
import { createOpenAIClient, preloadTokenizer, toOpenAIClientError } from '../index.js';

const API_KEY = 'sk-redis-test-0123456789abcdef';
const prefix = `${uniqueName('openai_budget')}:`;
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };
let fake: FakeOpenAIServer;
let redis: Redis;

beforeAll(async () => {
  fake = await startFakeOpenAIServer();
  redis = new Redis(redisUrl);
  await preloadTokenizer('gpt-4o-mini');
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await fake.close();
});

describe('client-side limiter on RedisRateLimiterStore (real Redis)', () => {
  it('shares the RPM budget of two clients (two stores, one Redis) under 50 concurrent calls', async () => {
    const storeA = new RedisRateLimiterStore({ connection: redisUrl, prefix, connectTimeoutMs: 20_000 });
    const storeB = new RedisRateLimiterStore({ connection: redisUrl, prefix, connectTimeoutMs: 20_000 });
    const options = { apiKey: API_KEY, baseURL: fake.baseURL, maxRetries: 0 };
    const a = createOpenAIClient({
      ...options,
      rateLimit: { requestsPerMinute: 10, maxWaitMs: 0, store: storeA, key: 'shared-rpm', onStoreError: 'throw' },
    });
    const b = createOpenAIClient({
      ...options,
      rateLimit: { requestsPerMinute: 10, maxWaitMs: 0, store: storeB, key: 'shared-rpm', onStoreError: 'throw' },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).chat.completions.create(chat)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const reasons = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => toOpenAIClientError(r.reason) ?? { code: 'unknown' });
    expect(reasons.every((e) => e.code === 'RATE_LIMITED')).toBe(true);
    expect(fake.requests).toHaveLength(10);
    await a.close();
    await b.close();
    await storeA.close();
    await storeB.close();
    await storeA.close();
    fake.reset();
  });

  it('corrects the shared TPM budget from usage', async () => {
    const store = new RedisRateLimiterStore({ client: redis, prefix });
    const c = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: fake.baseURL,
      maxRetries: 0,
      rateLimit: { tokensPerMinute: 1000, maxWaitMs: 0, store, key: 'shared-tpm' },
    });
    fake.handler = () => ({ usage: { prompt_tokens: 8, completion_tokens: 2 } });
    const call = () => c.chat.completions.create({ ...chat, max_completion_tokens: 200 });
    const first = await Promise.allSettled(Array.from({ length: 50 }, call));
    expect(first.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    // Refunds are sent after each response; wait until Redis has them.
    await expect
      .poll(async () => Number((await redis.hget(`${prefix}shared-tpm:tokens`, 'a')) ?? 0) - Date.now(), {
        timeout: 10_000,
      })
      .toBeLessThan(1000);
    const second = await Promise.allSettled(Array.from({ length: 50 }, call));
    expect(second.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    fake.reset();
  });

  it('lets calls through when Redis is down (onStoreError: allow) or fails them with STORE_UNAVAILABLE', async () => {
    const port = await closedPort();
    const down = () =>
      new RedisRateLimiterStore({
        connection: {
          port,
          host: '127.0.0.1',
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          lazyConnect: false,
          retryStrategy: () => null,
        },
        prefix,
      });
    const open = down();
    const allowing = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: fake.baseURL,
      maxRetries: 0,
      rateLimit: { requestsPerMinute: 5, store: open },
    });
    const storeErrors: string[] = [];
    allowing.on('storeError', ({ store }) => storeErrors.push(store));
    await expect(allowing.chat.completions.create(chat)).resolves.toMatchObject({ object: 'chat.completion' });
    expect(storeErrors).toEqual(['rateLimit']);
    const closed = down();
    const strict = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: fake.baseURL,
      maxRetries: 0,
      rateLimit: { requestsPerMinute: 5, store: closed, onStoreError: 'throw' },
    });
    const failed = await strict.chat.completions.create(chat).catch((e: unknown) => e);
    expect(toOpenAIClientError(failed)?.code).toBe('STORE_UNAVAILABLE');
    await open.close();
    await closed.close();
    fake.reset();
  });
});
