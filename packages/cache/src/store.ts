/**
 * The driver interface a cache runs on. `BaseCacheService` does validation, serialization,
 * freshness, events and stampede protection; a store only keeps records. Implement it to add a
 * backend, and run `cacheStoreContract` from the test utilities against the resulting cache.
 */

/** What a store keeps per key. */
export interface StoreRecord {
  /**
   * What the cache made of the value: the serializer's text, or the value itself for a cache that
   * keeps references (`InMemoryCacheService` with `serialize: false`). The store never looks inside.
   */
  payload: unknown;
  /** Epoch ms after which the value is stale; `Infinity` when it never goes stale. */
  freshUntil: number;
}

/** A record to write, with the moment the store may forget it. */
export interface StoreWrite extends StoreRecord {
  /** Epoch ms after which the record is gone (fresh time plus grace); `Infinity` for never. */
  expiresAt: number;
  tags?: readonly string[] | undefined;
}

/** A lock held while one instance runs a loader, so that its peers wait for its result. */
export interface StoreLock {
  /** Returns a token when the lock was taken, `undefined` when someone else holds it. */
  acquire(key: string, ttlMs: number): Promise<string | undefined>;
  /** Releases the lock only if `token` still holds it. */
  release(key: string, token: string): Promise<void>;
}

/**
 * A store may answer synchronously (the memory store does) or with a promise (Redis): the cache
 * takes a synchronous answer without an async frame, which is most of the cost of a memory hit.
 */
export interface CacheStore {
  /**
   * Ignored, and to be removed in a later release: whether a cache keeps references is the cache's
   * choice (the memory cache's `serialize` option), not the store's. Kept optional so that stores
   * written for 0.1 still compile.
   */
  readonly serializes?: boolean;
  /**
   * The tier the store keeps its records in, reported as `cache.tier` on the cache's spans
   * (`memory`, `redis`, `memory+redis`).
   * @default 'custom'
   */
  readonly tier?: string;
  /** Present when the store can coordinate loaders across processes. */
  readonly lock?: StoreLock | undefined;
  /**
   * Returns the record unless it has expired (stale records inside their grace are returned).
   * `now` is the caller's clock reading, passed so that one read serves the whole lookup: on a
   * virtual machine a second `Date.now()` cost about as much as the rest of a memory hit.
   */
  get(key: string, now?: number): Promise<StoreRecord | undefined> | StoreRecord | undefined;
  getMany(keys: readonly string[]): Promise<(StoreRecord | undefined)[]> | (StoreRecord | undefined)[];
  set(key: string, write: StoreWrite): Promise<void> | void;
  setMany(writes: readonly (readonly [string, StoreWrite])[]): Promise<void> | void;
  /** Returns true when a record was removed. */
  delete(key: string): Promise<boolean> | boolean;
  /** Removes this store's records only (its namespace), never anyone else's. */
  clear(): Promise<void> | void;
  /** Removes every record written with one of `tags`; returns how many were removed. */
  deleteByTags(tags: readonly string[]): Promise<number> | number;
  /** Releases what the store created (timers, connections); never an injected client. */
  close(options?: { timeoutMs?: number }): Promise<void> | void;
}
