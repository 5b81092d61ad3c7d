import { CacheManager, type CacheDriver } from '@infra/cache';
import type { Logger } from '@infra/core';
import type { AppConfig } from '../config.js';
import { DisabledCacheService } from './disabled-cache.js';

const disabledDriver: CacheDriver = { create: (name) => new DisabledCacheService(name) };

/**
 * The service's caches: Redis (shared by every instance, failing open behind a breaker) when
 * `REDIS_URL` is set, else process memory; or a cache that stores nothing with `CACHE_ENABLED=false`.
 */
export async function createCacheManager(config: AppConfig, logger: Logger): Promise<CacheManager> {
  if (!config.cacheEnabled) {
    return new CacheManager({ defaults: { driver: 'disabled' }, drivers: { disabled: disabledDriver } });
  }
  if (config.redis.url === undefined) {
    // By reference: nothing mutates a cached challenge (the route only serializes it), so the
    // per-read copy that `serialize: true` makes (JSON parse and Date revival) buys nothing here; it
    // cost the cached read about a fifth of its throughput ratio to the bare route (bench/, README).
    return new CacheManager({ defaults: { logger }, caches: { challenges: { maxEntries: 10_000, serialize: false } } });
  }
  const { redisDrivers } = await import('@infra/cache/redis');
  return new CacheManager({
    defaults: { driver: 'redis', keyPrefix: `${config.redis.keyPrefix}cache:`, logger },
    drivers: redisDrivers({ connection: config.redis.url }),
  });
}
