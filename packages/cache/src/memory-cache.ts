import { BaseCacheService } from './base-cache.js';
import { LruStore } from './memory/lru-store.js';
import type { CacheOptions, CacheStats } from './types.js';
import { check } from './errors.js';

export interface InMemoryCacheOptions extends CacheOptions {
  /** Most entries held; the least recently used entry is evicted beyond it. @default 10_000 */
  maxEntries?: number;
  /**
   * Estimated bytes the entries may take (UTF-16 payload plus a fixed per-entry cost); least
   * recently used entries are evicted beyond it, and a single larger entry is not stored.
   * 0 turns the byte limit off.
   * @default 67_108_864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Milliseconds between sweeps that drop expired entries nobody reads (reads drop them too).
   * The timer is unref'd. 0 turns the sweep off.
   * @default 60_000
   */
  sweepIntervalMs?: number;
  /**
   * Store values serialized, so that every reader gets its own copy (no shared mutation) and
   * values behave exactly as on Redis (Dates round-trip, unserializable values are rejected).
   * `false` keeps references: faster, but values are neither copied nor checked.
   * @default true
   */
  serialize?: boolean;
}

/** A process-local LRU cache with per-entry TTL, entry and byte limits, and expiry sweeps. */
export class InMemoryCacheService extends BaseCacheService {
  private readonly lru: LruStore;

  constructor(name = 'default', options: InMemoryCacheOptions = {}) {
    check.nonEmptyString('name', name);
    const lru = new LruStore({
      maxEntries: check.integer('maxEntries', options.maxEntries ?? 10_000),
      maxBytes: check.nonNegative('maxBytes', options.maxBytes ?? 64 * 1024 * 1024),
      sweepIntervalMs: check.nonNegative('sweepIntervalMs', options.sweepIntervalMs ?? 60_000),
      now: options.now ?? Date.now,
      onEvict: undefined,
    });
    const byReference = !check.boolean('serialize', options.serialize ?? true);
    try {
      super(name, lru, options, byReference);
    } catch (error) {
      void lru.close();
      throw error;
    }
    this.lru = lru;
    lru.onEvict = (key, reason) => {
      this.emit('evict', { cache: this.name, key, reason });
    };
  }

  /** Drops every expired entry now; returns how many were dropped. */
  prune(): number {
    return this.lru.sweep();
  }

  override stats(): CacheStats {
    return {
      ...super.stats(),
      entries: this.lru.size,
      bytes: this.lru.totalBytes,
      evictions: this.lru.evictions,
      expirations: this.lru.expirations,
    };
  }
}
