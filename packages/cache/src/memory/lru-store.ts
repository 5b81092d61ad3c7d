import type { CacheStore, StoreRecord, StoreWrite } from '../store.js';
import { ENTRY_OVERHEAD_BYTES, estimateBytes } from './size.js';

/** A write to the memory store, with the moment its value was read or written (tiered L1). */
export interface LruWrite extends StoreWrite {
  /** Epoch ms when the value entered this tier; 0 when nobody asks. @default 0 */
  storedAt?: number;
}

/** What the memory store returns: the record, and when it was stored. */
export interface LruRecord extends StoreRecord {
  storedAt: number;
}

interface Entry extends LruRecord {
  key: string;
  expiresAt: number;
  bytes: number;
  tags: readonly string[] | undefined;
  /** Neighbours in recency order: `older` towards the least recently used end. */
  older: Entry | undefined;
  newer: Entry | undefined;
}

/** Why an entry left the memory store. */
export type EvictionReason = 'lru' | 'size' | 'expired' | 'too-large';

export interface LruStoreOptions {
  maxEntries: number;
  /** 0 for no byte limit. */
  maxBytes: number;
  sweepIntervalMs: number;
  now: () => number;
  onEvict: ((key: string, reason: EvictionReason) => void) | undefined;
}

/**
 * A least-recently-used map with per-entry expiry, an entry limit and a byte budget.
 *
 * Recency is a doubly-linked list through the entries: a read moves its entry to the newest end
 * with a few pointer writes (re-inserting into a `Map` instead would churn its hash table on
 * every hit), and eviction takes the oldest end. Expired entries are dropped when read (lazy) and by a periodic sweep
 * whose timer is unref'd, so an idle cache neither grows nor holds the process open.
 */
export class LruStore implements CacheStore {
  readonly tier = 'memory';
  private readonly entries = new Map<string, Entry>();
  private readonly tagIndex = new Map<string, Set<string>>();
  private oldest: Entry | undefined;
  private newest: Entry | undefined;
  private readonly options: LruStoreOptions;
  /** Set by the owning cache once it exists, to report evictions. */
  onEvict: LruStoreOptions['onEvict'];
  private timer: NodeJS.Timeout | undefined;
  private bytes = 0;
  evictions = 0;
  expirations = 0;

  constructor(options: LruStoreOptions) {
    this.options = options;
    this.onEvict = options.onEvict;
    if (options.sweepIntervalMs > 0) {
      this.timer = setInterval(() => {
        this.sweep();
      }, options.sweepIntervalMs);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string, now: number = this.options.now()): LruRecord | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.remove(key, entry, 'expired');
      return undefined;
    }
    if (entry !== this.newest) {
      this.unlink(entry);
      this.append(entry);
    }
    return entry;
  }

  getMany(keys: readonly string[]): (StoreRecord | undefined)[] {
    return keys.map((key) => this.get(key));
  }

  set(key: string, write: LruWrite): void {
    const previous = this.entries.get(key);
    const payloadBytes =
      typeof write.payload === 'string' ? 16 + write.payload.length * 2 : estimateBytes(write.payload);
    const bytes = ENTRY_OVERHEAD_BYTES + key.length * 2 + payloadBytes;
    const { maxBytes, maxEntries } = this.options;
    if (maxBytes > 0 && bytes > maxBytes) {
      // The new value is refused, and the old one is not kept in its place either: it is outdated.
      if (previous !== undefined) this.remove(key, previous, undefined);
      this.evictions++;
      this.onEvict?.(key, 'too-large');
      return;
    }
    const tags = write.tags && write.tags.length > 0 ? write.tags : undefined;
    if (previous !== undefined && previous.tags === undefined && tags === undefined) {
      // Overwrite in place: no new record, and no Map delete and re-insert, which churns the hash
      // table (overwriting sets ran at about a third of the speed without this).
      previous.payload = write.payload;
      previous.freshUntil = write.freshUntil;
      previous.expiresAt = write.expiresAt;
      previous.storedAt = write.storedAt ?? 0;
      this.bytes += bytes - previous.bytes;
      previous.bytes = bytes;
      if (previous !== this.newest) {
        this.unlink(previous);
        this.append(previous);
      }
      while (maxBytes > 0 && this.bytes > maxBytes) this.evictOldest('size');
      return;
    }
    if (previous !== undefined) this.remove(key, previous, undefined);
    const entry: Entry = {
      key,
      payload: write.payload,
      freshUntil: write.freshUntil,
      expiresAt: write.expiresAt,
      storedAt: write.storedAt ?? 0,
      bytes,
      tags,
      older: undefined,
      newer: undefined,
    };
    this.entries.set(key, entry);
    this.append(entry);
    this.bytes += bytes;
    if (tags) for (const tag of tags) this.tagged(tag).add(key);
    while (this.entries.size > maxEntries) this.evictOldest('lru');
    while (maxBytes > 0 && this.bytes > maxBytes) this.evictOldest('size');
  }

  setMany(writes: readonly (readonly [string, StoreWrite])[]): void {
    for (const [key, write] of writes) this.set(key, write);
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.remove(key, entry, undefined);
    return entry.expiresAt > this.options.now();
  }

  clear(): void {
    this.entries.clear();
    this.oldest = this.newest = undefined;
    this.tagIndex.clear();
    this.bytes = 0;
  }

  deleteByTags(tags: readonly string[]): number {
    let removed = 0;
    for (const tag of tags) {
      const keys = this.tagIndex.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) if (this.delete(key)) removed++;
    }
    return removed;
  }

  /** Drops every expired entry; returns how many. */
  sweep(): number {
    const now = this.options.now();
    let dropped = 0;
    for (const entry of [...this.entries.values()]) {
      if (entry.expiresAt <= now) {
        this.remove(entry.key, entry, 'expired');
        dropped++;
      }
    }
    return dropped;
  }

  /** Stops the sweep timer and forgets every entry. Idempotent. */
  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private evictOldest(reason: EvictionReason): void {
    const entry = this.oldest;
    if (entry) this.remove(entry.key, entry, reason);
  }

  private append(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = entry.newer = undefined;
  }

  private remove(key: string, entry: Entry, reason: EvictionReason | undefined): void {
    this.entries.delete(key);
    this.unlink(entry);
    this.bytes -= entry.bytes;
    if (entry.tags) {
      for (const tag of entry.tags) {
        const keys = this.tagIndex.get(tag);
        keys?.delete(key);
        if (keys?.size === 0) this.tagIndex.delete(tag);
      }
    }
    if (reason === undefined) return;
    if (reason === 'expired') this.expirations++;
    else this.evictions++;
    this.onEvict?.(key, reason);
  }

  private tagged(tag: string): Set<string> {
    let keys = this.tagIndex.get(tag);
    if (!keys) this.tagIndex.set(tag, (keys = new Set()));
    return keys;
  }
}
