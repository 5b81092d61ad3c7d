import { MemoryRateLimiterStore, RateLimiter, type RateLimiterStore } from '@infra/resilience';
import { MemoryIdempotencyStore, RedisIdempotencyStore, type IdempotencyStore } from '@infra/api';
import type { Logger } from '@infra/core';
import type { AppConfig } from '../config.js';

/**
 * The limiter of `POST /v1/challenges/generate`: its budget is shared by every instance through
 * Redis when `REDIS_URL` is set, and per process otherwise. A Redis outage lets requests through
 * (fail open) rather than taking the route down with it.
 */
export async function createGenerateLimiter(
  config: AppConfig,
): Promise<{ limiter: RateLimiter; store: RateLimiterStore & { close?(): Promise<void> | void } }> {
  let store: RateLimiterStore & { close?(): Promise<void> | void };
  if (config.redis.url === undefined) {
    store = new MemoryRateLimiterStore();
  } else {
    const { RedisRateLimiterStore } = await import('@infra/resilience/redis');
    store = new RedisRateLimiterStore({ connection: config.redis.url, prefix: `${config.redis.keyPrefix}rl:` });
  }
  const limiter = new RateLimiter({
    name: 'generate',
    limit: config.rateLimit.limit,
    windowMs: config.rateLimit.windowMs,
    algorithm: 'sliding-window',
    store,
    onStoreError: 'fail-open',
  });
  return { limiter, store };
}

/**
 * Where `Idempotency-Key`s live: Redis when `REDIS_URL` is set, so that a retry that lands on
 * another instance is still recognised; this process's memory otherwise.
 */
export async function createIdempotencyStore(
  config: AppConfig,
  logger: Logger,
): Promise<{ store: IdempotencyStore; close: () => Promise<void> }> {
  if (config.redis.url === undefined) return { store: new MemoryIdempotencyStore(), close: async () => {} };
  const { Redis } = await import('ioredis');
  // Fail fast: a request must not wait for a Redis that is away (the route answers 5xx, the key stays free).
  const client = new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  client.on('error', (error: Error) => {
    logger.warn({ error: error.message }, 'idempotency store: Redis error');
  });
  await client.connect();
  return {
    store: new RedisIdempotencyStore({ client, prefix: `${config.redis.keyPrefix}idem:` }),
    close: async () => {
      await client.quit().catch(() => {
        client.disconnect();
      });
    },
  };
}
