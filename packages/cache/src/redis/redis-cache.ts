import { BaseCacheService } from '../base-cache.js';
import type { CacheStats } from '../types.js';
import { check } from '../errors.js';
import { baseOf, commandTimeoutOf, connectionOf, type RedisCacheOptions } from './redis-options.js';
import { RedisStore } from './redis-store.js';

/**
 * A cache in Redis, shared by every instance of a service. Fails open: while Redis is down a
 * read is a miss and a write is dropped (each reported through the `error` event), a circuit
 * breaker makes each call cost microseconds, and the cache recovers by itself.
 */
export class RedisCacheService extends BaseCacheService {
  private readonly redis: RedisStore;

  constructor(name = 'default', options: RedisCacheOptions = {}) {
    check.nonEmptyString('name', name);
    const store = new RedisStore({
      cacheName: name,
      client: options.client,
      connection: connectionOf(options),
      provider: options.clientProvider,
      base: baseOf(options, name),
      breaker: options.breaker,
      commandTimeoutMs: commandTimeoutOf(options),
    });
    super(name, store, options);
    this.redis = store;
  }

  /** Connects now rather than on first use; rejects with `CACHE_UNAVAILABLE` if Redis does not answer. */
  async start(): Promise<void> {
    this.assertOpen();
    await this.redis.start();
  }

  override stats(): CacheStats {
    return { ...super.stats(), breaker: this.redis.breaker.state };
  }
}
