import { MemoryRateLimiterStore, RateLimiter, type RateLimiterStore } from '@infra/resilience';
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
