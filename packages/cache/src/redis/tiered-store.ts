import { activeSpan } from '@infra/core';
import { isCacheError } from '../errors.js';
import type { LruRecord, LruStore, LruWrite } from '../memory/lru-store.js';
import type { CacheStore, StoreLock, StoreRecord, StoreWrite } from '../store.js';
import type { Invalidation, InvalidationBus } from './invalidation-bus.js';
import type { RedisStore } from './redis-store.js';

/** How long the memory tier may be trusted, in ms. */
export interface TieredLimits {
  /** Longest life of an L1 entry while invalidations arrive (`l1.ttl`). */
  l1TtlMs: number;
  /** Longest life of an L1 entry while they cannot (`l1.outageMaxAgeMs`). */
  outageMaxAgeMs: number;
}

/**
 * L1 (process memory) in front of L2 (Redis). Reads try L1, then L2 and copy a fresh L2 record
 * into L1 for at most `l1TtlMs`. Writes go to both and are announced to peers, which evict the
 * keys from their L1.
 *
 * While invalidations cannot arrive (the subscriber is down, or Redis is failing and its breaker
 * is not closed), L1 keeps answering, but only with entries younger than `outageMaxAgeMs`, and
 * what enters L1 then lives at most that long: a peer's change may be missed for that long at
 * most. A value loaded while Redis is down is kept in L1 although Redis refused it, so that an
 * outage costs a load per key per `outageMaxAgeMs` instead of a load per read. When the subscriber
 * is back after a drop, the whole L1 is forgotten (see {@link InvalidationBus}).
 */
export class TieredStore implements CacheStore {
  readonly tier = 'memory+redis';
  readonly lock: StoreLock;
  private readonly l1: LruStore;
  private readonly l2: RedisStore;
  private readonly bus: InvalidationBus;
  private readonly limits: TieredLimits;
  private readonly now: () => number;
  private readonly onStartError: (error: unknown) => void;
  private starting = false;
  /** Bumped by every peer invalidation: an L2 read that overlapped one must not fill L1. */
  private epoch = 0;

  constructor(
    l1: LruStore,
    l2: RedisStore,
    bus: InvalidationBus,
    limits: TieredLimits,
    now: () => number,
    onStartError: (error: unknown) => void,
  ) {
    this.l1 = l1;
    this.l2 = l2;
    this.bus = bus;
    this.limits = limits;
    this.now = now;
    this.onStartError = onStartError;
    this.lock = l2.lock;
  }

  /** True while the invalidation subscriber is subscribed. */
  get subscribed(): boolean {
    return this.bus.live;
  }

  /** Connects Redis and subscribes to peers' invalidations. */
  async start(): Promise<void> {
    await this.l2.start();
    await this.bus.start(await this.l2.connection());
  }

  /** Applies a peer's announcement to L1. */
  invalidate(invalidation: Invalidation): void {
    this.epoch++;
    if ('all' in invalidation) this.l1.clear();
    else for (const key of invalidation.keys) this.l1.delete(key);
  }

  async get(key: string): Promise<StoreRecord | undefined> {
    const now = this.now();
    const live = this.l1Live();
    const local = this.l1.get(key, now);
    if (local !== undefined && this.servable(local, now, live)) {
      activeSpan()?.setAttribute('cache.tier', 'memory');
      return local;
    }
    const epoch = this.epoch;
    const remote = await this.l2.get(key);
    if (remote !== undefined) {
      activeSpan()?.setAttribute('cache.tier', 'redis');
      if (epoch === this.epoch) this.fill(key, remote, live);
    }
    return remote;
  }

  async getMany(keys: readonly string[]): Promise<(StoreRecord | undefined)[]> {
    const now = this.now();
    const live = this.l1Live();
    const found: (StoreRecord | undefined)[] = keys.map((key) => {
      const local = this.l1.get(key, now);
      return local !== undefined && this.servable(local, now, live) ? local : undefined;
    });
    const missing = keys.filter((_, i) => found[i] === undefined);
    if (missing.length === 0) return found;
    const epoch = this.epoch;
    const remote = await this.l2.getMany(missing);
    const fill = epoch === this.epoch;
    let next = 0;
    return found.map((record, i) => {
      if (record !== undefined) return record;
      const fetched = remote[next++];
      const key = keys[i];
      if (fetched !== undefined && fill && key !== undefined) this.fill(key, fetched, live);
      return fetched;
    });
  }

  async set(key: string, write: StoreWrite): Promise<void> {
    this.l1.delete(key);
    try {
      await this.l2.set(key, write);
    } catch (error) {
      this.keepThroughOutage(key, write, error);
      throw error;
    }
    this.l1.set(key, this.l1Write(write, this.l1Live()));
    await this.announce({ keys: [key] });
  }

  async setMany(writes: readonly (readonly [string, StoreWrite])[]): Promise<void> {
    for (const [key] of writes) this.l1.delete(key);
    try {
      await this.l2.setMany(writes);
    } catch (error) {
      for (const [key, write] of writes) this.keepThroughOutage(key, write, error);
      throw error;
    }
    const live = this.l1Live();
    for (const [key, write] of writes) this.l1.set(key, this.l1Write(write, live));
    await this.announce({ keys: writes.map(([key]) => key) });
  }

  async delete(key: string): Promise<boolean> {
    this.l1.delete(key);
    const removed = await this.l2.delete(key);
    await this.announce({ keys: [key] });
    return removed;
  }

  async clear(): Promise<void> {
    this.l1.clear();
    await this.l2.clear();
    await this.announce({ all: true });
  }

  async deleteByTags(tags: readonly string[]): Promise<number> {
    // L1 copies read from L2 carry no tags: forgetting all of L1 is the only safe answer.
    this.l1.clear();
    const removed = await this.l2.deleteByTags(tags);
    await this.announce({ all: true });
    return removed;
  }

  async close(): Promise<void> {
    await this.l1.close();
    await this.bus.close();
    await this.l2.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Whether invalidations arrive; when the subscriber is down, (re)starts it in the background. */
  private l1Live(): boolean {
    if (this.bus.live) return this.l2.breaker.state === 'closed';
    if (!this.starting) {
      this.starting = true;
      this.l2
        .connection()
        .then(
          (client) => this.bus.start(client),
          (error: unknown) => {
            this.starting = false;
            this.onStartError(error);
          },
        )
        .catch(() => {
          // The subscriber keeps reconnecting on its own; until it is live, L1 runs on outage limits.
        });
    }
    return false;
  }

  /** Fresh, and, while invalidations cannot arrive, young enough to be trusted without them. */
  private servable(record: LruRecord, now: number, live: boolean): boolean {
    if (record.freshUntil <= now) return false;
    return live || now - record.storedAt < this.limits.outageMaxAgeMs;
  }

  /** Redis refused a write because it is away: the value is still right here, for a while. */
  private keepThroughOutage(key: string, write: StoreWrite, error: unknown): void {
    if (isCacheError(error, 'CACHE_UNAVAILABLE')) this.l1.set(key, this.l1Write(write, false));
  }

  private fill(key: string, record: StoreRecord, live: boolean): void {
    const now = this.now();
    if (record.freshUntil <= now) return;
    this.l1.set(key, {
      payload: record.payload,
      freshUntil: record.freshUntil,
      expiresAt: now + this.lifetime(live),
      storedAt: now,
    });
  }

  private l1Write(write: StoreWrite, live: boolean): LruWrite {
    const now = this.now();
    return {
      payload: write.payload,
      freshUntil: write.freshUntil,
      expiresAt: Math.min(write.expiresAt, now + this.lifetime(live)),
      tags: write.tags,
      storedAt: now,
    };
  }

  private lifetime(live: boolean): number {
    return live ? this.limits.l1TtlMs : Math.min(this.limits.l1TtlMs, this.limits.outageMaxAgeMs);
  }

  private async announce(invalidation: Invalidation): Promise<void> {
    await this.bus.publish(await this.l2.connection(), invalidation);
  }
}
