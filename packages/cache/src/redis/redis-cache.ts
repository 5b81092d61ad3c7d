import { BaseCacheService } from '../base-cache.js';
import { check } from '../errors.js';
import type { CacheHealth, CacheStats } from '../types.js';
import type { RedisCacheOptions } from './redis-options.js';
import { connectionError, createRedisStore, type RedisStore } from './redis-store.js';

/**
 * A cache in Redis, shared by every instance of a service. Fails open: while Redis is down a
 * read is a miss and a write is dropped (each reported through the `error` event), a circuit
 * breaker makes each call cost microseconds, and the cache recovers by itself.
 */
export class RedisCacheService extends BaseCacheService {
  private readonly redis: RedisStore;

  constructor(name = 'default', options: RedisCacheOptions = {}) {
    check.nonEmptyString('name', name);
    // The store exists before the cache: its connection errors are reported once the cache does.
    const sink: { report?: (error: Error) => void } = {};
    const store = createRedisStore(name, options, (error) => sink.report?.(error));
    super(name, store, options);
    this.redis = store;
    sink.report = (error) => {
      this.emit('error', {
        cache: this.name,
        operation: 'connection',
        key: undefined,
        error: connectionError(name, error),
      });
    };
  }
  /** Connects now rather than on first use; rejects with `CACHE_UNAVAILABLE` if Redis does not answer. */
  async start(): Promise<void> {
    this.assertOpen();
    await this.redis.start();
  }

  /**
   * Pings Redis (not through the breaker) and answers within `commandTimeoutMs`: `status` is `down`
   * from the moment Redis stops answering, whatever the breaker has seen yet.
   */
  async checkHealth(): Promise<CacheHealth> {
    this.assertOpen();
    const probe = await this.redis.probe();
    const health: CacheHealth = {
      status: probe.up ? 'up' : 'down',
      redis: probe.up ? 'up' : 'down',
      breaker: this.redis.breaker.state,
    };
    if (probe.latencyMs !== undefined) health.latencyMs = probe.latencyMs;
    if (probe.message !== undefined) health.message = `${probe.message}: reads miss and writes are dropped`;
    return health;
  }

  override stats(): CacheStats {
    return { ...super.stats(), breaker: this.redis.breaker.state };
  }
}
