import type { LruStore } from '../memory/lru-store.js';
import type { CacheStore, StoreLock, StoreRecord, StoreWrite } from '../store.js';
import type { Invalidation, InvalidationBus } from './invalidation-bus.js';
import type { RedisStore } from './redis-store.js';

/**
 * L1 (process memory) in front of L2 (Redis). Reads try L1, then L2 and copy a fresh L2 record
 * into L1 for at most `l1TtlMs`. Writes go to both and are announced to peers, which evict the
 * keys from their L1. L1 is only used while the invalidation subscriber is live: a missed
 * announcement could otherwise leave a peer serving an old value.
 */
export class TieredStore implements CacheStore {
  readonly lock: StoreLock;
  private readonly l1: LruStore;
  private readonly l2: RedisStore;
  private readonly bus: InvalidationBus;
  private readonly l1TtlMs: number;
  private readonly now: () => number;
  private readonly onStartError: (error: unknown) => void;
  private starting = false;
  /** Bumped by every peer invalidation: an L2 read that overlapped one must not fill L1. */
  private epoch = 0;

  constructor(
    l1: LruStore,
    l2: RedisStore,
    bus: InvalidationBus,
    l1TtlMs: number,
    now: () => number,
    onStartError: (error: unknown) => void,
  ) {
    this.l1 = l1;
    this.l2 = l2;
    this.bus = bus;
    this.l1TtlMs = l1TtlMs;
    this.now = now;
    this.onStartError = onStartError;
    this.lock = l2.lock;
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
    const useL1 = this.l1Usable();
    if (useL1) {
      const local = this.l1.get(key);
      if (local !== undefined && local.freshUntil > this.now()) return local;
    }
    const epoch = this.epoch;
    const remote = await this.l2.get(key);
    if (remote !== undefined && useL1 && epoch === this.epoch) this.fill(key, remote);
    return remote;
  }

  async getMany(keys: readonly string[]): Promise<(StoreRecord | undefined)[]> {
    const useL1 = this.l1Usable();
    const now = this.now();
    const found: (StoreRecord | undefined)[] = keys.map((key) => {
      if (!useL1) return undefined;
      const local = this.l1.get(key);
      return local !== undefined && local.freshUntil > now ? local : undefined;
    });
    const missing = keys.filter((_, i) => found[i] === undefined);
    if (missing.length === 0) return found;
    const epoch = this.epoch;
    const remote = await this.l2.getMany(missing);
    const fill = useL1 && epoch === this.epoch;
    let next = 0;
    return found.map((record, i) => {
      if (record !== undefined) return record;
      const fetched = remote[next++];
      const key = keys[i];
      if (fetched !== undefined && fill && key !== undefined) this.fill(key, fetched);
      return fetched;
    });
  }

  async set(key: string, write: StoreWrite): Promise<void> {
    this.l1.delete(key);
    await this.l2.set(key, write);
    if (this.l1Usable()) this.l1.set(key, this.l1Write(write));
    await this.announce({ keys: [key] });
  }

  async setMany(writes: readonly (readonly [string, StoreWrite])[]): Promise<void> {
    for (const [key] of writes) this.l1.delete(key);
    await this.l2.setMany(writes);
    if (this.l1Usable()) for (const [key, write] of writes) this.l1.set(key, this.l1Write(write));
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

  private l1Usable(): boolean {
    if (this.bus.live) return true;
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
          // The subscriber keeps reconnecting on its own; until it is live L1 stays bypassed.
        });
    }
    return false;
  }

  private fill(key: string, record: StoreRecord): void {
    if (record.freshUntil <= this.now()) return;
    this.l1.set(key, { payload: record.payload, freshUntil: record.freshUntil, expiresAt: this.now() + this.l1TtlMs });
  }

  private l1Write(write: StoreWrite): StoreWrite {
    const cap = this.now() + this.l1TtlMs;
    return {
      payload: write.payload,
      freshUntil: write.freshUntil,
      expiresAt: Math.min(write.expiresAt, cap),
      tags: write.tags,
    };
  }

  private async announce(invalidation: Invalidation): Promise<void> {
    await this.bus.publish(await this.l2.connection(), invalidation);
  }
}
