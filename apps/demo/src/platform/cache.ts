import { CacheManager, type CacheDriver } from '@infra/cache';
import type { AppConfig } from '../config.js';
import { DisabledCacheService } from './disabled-cache.js';

const disabledDriver: CacheDriver = { create: (name) => new DisabledCacheService(name) };

/**
 * The service's caches: Redis (shared by every instance, failing open behind a breaker) when
 * `REDIS_URL` is set, else process memory; or a cache that stores nothing with `CACHE_ENABLED=false`.
 */
export async function createCacheManager(config: AppConfig): Promise<CacheManager> {
  if (!config.cacheEnabled) {
    return new CacheManager({ defaults: { driver: 'disabled' }, drivers: { disabled: disabledDriver } });
  }
  if (config.redis.url === undefined) {
    // By reference: the service never mutates a cached challenge, so the per-read copy (parse and
    // Date revival) that `serialize: true` makes would buy nothing on the hottest path.
    return new CacheManager({ caches: { challenges: { maxEntries: 10_000, serialize: false } } });
  }
  const { redisDrivers } = await import('@infra/cache/redis');
  return new CacheManager({
    defaults: { driver: 'redis', keyPrefix: `${config.redis.keyPrefix}cache:` },
    drivers: redisDrivers({ connection: config.redis.url }),
  });
}
