import type { CircuitBreakerOptions } from '@infra/resilience';
import type { CacheDriver } from '../cache-manager.js';
import { RedisCacheService } from './redis-cache.js';
import type { RedisCacheOptions, RedisConnectionOptions } from './redis-options.js';
import { SharedRedisConnection } from './shared-connection.js';
import { TieredCacheService } from './tiered-cache.js';

export interface RedisDriversOptions extends RedisConnectionOptions {
  /** Options of the circuit breaker each cache creates. @default see RedisCacheOptions.breaker */
  breaker?: CircuitBreakerOptions;
  /** Command timeout of the shared client in ms. @default 1_000 */
  commandTimeoutMs?: number;
  /** Connect timeout of the shared client in ms. @default 1_000 */
  connectTimeoutMs?: number;
}

/**
 * The `redis` and `tiered` drivers for `CacheManager`. Every cache they create shares one
 * connection (the injected `client`, or one created from `connection` on first use and closed by
 * `CacheManager.close()`); each tiered cache adds a subscriber connection of its own.
 */
export function redisDrivers(options: RedisDriversOptions = {}): { redis: CacheDriver; tiered: CacheDriver } {
  const shared = new SharedRedisConnection(options);
  const connection: RedisCacheOptions = {
    client: shared.client,
    clientProvider: shared.provider,
    breaker: options.breaker,
  };
  return {
    redis: {
      create: (name, config) => new RedisCacheService(name, { ...config, ...connection }),
      close: () => shared.close(),
    },
    tiered: {
      create: (name, config) => new TieredCacheService(name, { ...config, ...connection }),
      close: () => shared.close(),
    },
  };
}
