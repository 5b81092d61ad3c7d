import { BaseCacheService } from '../base-cache.js';
import { InvalidCacheOptionError, check } from '../errors.js';
import { LruStore } from '../memory/lru-store.js';
import type { CacheHealth, CacheStats } from '../types.js';
import { ttlMs } from '../validate.js';
import { InvalidationBus } from './invalidation-bus.js';
import { baseOf, type RedisCacheOptions } from './redis-options.js';
import { connectionError, createRedisStore, type RedisStore } from './redis-store.js';
import { TieredStore } from './tiered-store.js';

export interface L1Options {
  /** Most entries in the in-process tier. @default 1_000 */
  maxEntries?: number;
  /** Estimated bytes the in-process tier may hold; 0 for no limit. @default 16_777_216 (16 MiB) */
  maxBytes?: number;
  /**
   * Longest time, in seconds, a value lives in the in-process tier, whatever its ttl. Bounds how
   * long a peer can serve an old value if an invalidation message is lost.
   * @default 60
   */
  ttl?: number;
  /** Milliseconds between sweeps of expired L1 entries (unref'd timer). @default 30_000 */
  sweepIntervalMs?: number;
  /**
   * Longest time, in ms, an L1 entry is trusted while peers' invalidations cannot arrive (Redis
   * down or failing, or the subscriber reconnecting). During such an outage L1 keeps answering
   * with entries younger than this, and a value loaded meanwhile stays in L1 this long although
   * Redis could not take it: loaders run about once per key per `outageMaxAgeMs` instead of once
   * per read. A peer's change can be missed for this long at most; 0 bypasses L1 during outages.
   * Capped by `ttl`.
   * @default 10_000
   */
  outageMaxAgeMs?: number;
}

export interface TieredCacheOptions extends RedisCacheOptions {
  /**
   * The in-process tier.
   * @default { maxEntries: 1_000, maxBytes: 16 MiB, ttl: 60, sweepIntervalMs: 30_000, outageMaxAgeMs: 10_000 }
   */
  l1?: L1Options;
}

/**
 * L1 memory in front of L2 Redis. A write or delete on one instance evicts the key from every
 * peer's L1 through Redis pub/sub, on a subscriber connection of the cache's own (duplicated from
 * its client and closed by `close()`). Fails open like `RedisCacheService`.
 */
export class TieredCacheService extends BaseCacheService {
  private readonly l1: LruStore;
  private readonly redis: RedisStore;
  private readonly tiers: TieredStore;
  private readonly outageMaxAgeMs: number;

  constructor(name = 'default', options: TieredCacheOptions = {}) {
    check.nonEmptyString('name', name);
    // The cache does not exist yet while its parts are built: they report through this sink.
    const sink: { emit?: BaseCacheService['emit'] | undefined } = {};
    const l1Options = options.l1 ?? {};
    const l1TtlMs = ttlMs('l1.ttl', l1Options.ttl ?? 60) ?? 60_000;
    if (l1TtlMs === 0) throw new InvalidCacheOptionError('l1.ttl', l1Options.ttl, 'a number of seconds > 0');
    const outageMaxAgeMs = check.nonNegative('l1.outageMaxAgeMs', l1Options.outageMaxAgeMs ?? 10_000);
    const redis = createRedisStore(name, options, (error) => {
      sink.emit?.('error', {
        cache: name,
        operation: 'connection',
        key: undefined,
        error: connectionError(name, error),
      });
    });
    const base = baseOf(options, name);
    const reportError = (error: unknown): void => {
      sink.emit?.('error', { cache: name, operation: 'invalidate', key: undefined, error });
    };
    const l1 = new LruStore({
      maxEntries: check.integer('l1.maxEntries', l1Options.maxEntries ?? 1_000),
      maxBytes: check.nonNegative('l1.maxBytes', l1Options.maxBytes ?? 16 * 1024 * 1024),
      sweepIntervalMs: check.nonNegative('l1.sweepIntervalMs', l1Options.sweepIntervalMs ?? 30_000),
      now: options.now ?? Date.now,
      onEvict: (key, reason) => {
        sink.emit?.('evict', { cache: name, key, reason });
      },
    });
    const bus = new InvalidationBus({
      channel: `${base}invalidate`,
      onInvalidate: (invalidation) => {
        tiers.invalidate(invalidation);
        sink.emit?.('invalidate', { cache: name, keys: 'all' in invalidation ? 'all' : invalidation.keys });
      },
      onError: reportError,
    });
    const tiers = new TieredStore(l1, redis, bus, { l1TtlMs, outageMaxAgeMs }, options.now ?? Date.now, reportError);
    try {
      super(name, tiers, options);
    } catch (error) {
      void l1.close();
      throw error;
    }
    sink.emit = (event, payload) => {
      this.emit(event, payload);
    };
    this.l1 = l1;
    this.redis = redis;
    this.tiers = tiers;
    this.outageMaxAgeMs = Math.min(outageMaxAgeMs, l1TtlMs);
  }

  /**
   * Connects Redis and subscribes to peers' invalidations now rather than on first use. Until
   * the subscription is live, reads go to Redis only.
   */
  async start(): Promise<void> {
    this.assertOpen();
    await this.tiers.start();
  }

  /**
   * Pings Redis (not through the breaker, within `commandTimeoutMs`) and checks the invalidation
   * subscriber: `status` is `up` only when both are, `down` as soon as either is not (the memory
   * tier then answers within `l1.outageMaxAgeMs`).
   */
  async checkHealth(): Promise<CacheHealth> {
    this.assertOpen();
    const probe = await this.redis.probe();
    const live = this.tiers.subscribed;
    const health: CacheHealth = {
      status: probe.up && live ? 'up' : 'down',
      redis: probe.up ? 'up' : 'down',
      breaker: this.redis.breaker.state,
      invalidation: live ? 'live' : 'down',
    };
    if (probe.latencyMs !== undefined) health.latencyMs = probe.latencyMs;
    const reason = probe.message ?? (live ? undefined : 'the invalidation subscriber is not subscribed');
    if (reason !== undefined) {
      health.message = `${reason}: serving L1 entries younger than ${this.outageMaxAgeMs} ms, loading the rest`;
    }
    return health;
  }

  override stats(): CacheStats {
    return {
      ...super.stats(),
      entries: this.l1.size,
      bytes: this.l1.totalBytes,
      evictions: this.l1.evictions,
      expirations: this.l1.expirations,
      breaker: this.redis.breaker.state,
    };
  }
}
