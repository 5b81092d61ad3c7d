import type { Logger } from '@infra/core';
import type { Serializer } from './serializer.js';

/** Options of a single write. Durations are in **seconds**, as in `set(key, value, { ttl: 3600 })`. */
export interface SetOptions {
  /**
   * Seconds the value stays fresh; 0 keeps it until it is evicted or deleted.
   * @default the cache's `ttl`
   */
  ttl?: number;
  /**
   * Seconds a value is kept after it went stale, so that `getOrSet` can serve it while one
   * refresh runs or when the loader fails. `get` never returns a stale value.
   * @default the cache's `grace`
   */
  grace?: number;
  /** Tags for `deleteByTag`. @default none */
  tags?: readonly string[];
}

/** One entry of `setMany`. */
export interface CacheEntryInput<T = unknown> extends SetOptions {
  key: string;
  value: T;
}

/** Distributed lock used by `getOrSet` on stores that support it (Redis). */
export interface LockOptions {
  /** Milliseconds the lock lives if its holder dies before releasing it. @default 10_000 */
  ttlMs?: number;
  /** Milliseconds a peer waits for the holder's value before loading itself. @default 5_000 */
  waitMs?: number;
  /** Milliseconds between a waiting peer's reads of the key. @default 25 */
  pollMs?: number;
}

export interface GetOrSetOptions extends SetOptions {
  /**
   * With a stale value at hand: milliseconds to wait for the loader before serving the stale
   * value (the refresh goes on in the background). 0 serves stale at once (stale-while-revalidate).
   * @default the cache's `getOrSet.softTimeoutMs` (0)
   */
  softTimeoutMs?: number;
  /**
   * Milliseconds after which the loader's signal is aborted and callers get the stale value, or a
   * `LOADER_TIMEOUT` error when there is none. 0 means no limit.
   * @default the cache's `getOrSet.hardTimeoutMs` (0)
   */
  hardTimeoutMs?: number;
  /**
   * Take a distributed lock before loading so that N instances run the loader about once.
   * Ignored by stores without locks (memory). `true` uses the default {@link LockOptions}.
   * @default the cache's `getOrSet.lock` (false)
   */
  lock?: boolean | LockOptions;
}

/** Defaults a cache applies to every `getOrSet`. */
export type GetOrSetDefaults = Pick<GetOrSetOptions, 'softTimeoutMs' | 'hardTimeoutMs' | 'lock'>;

/** What a loader receives. */
export interface LoaderContext {
  readonly key: string;
  /** Aborted when the hard timeout fires or the cache closes. */
  readonly signal: AbortSignal;
  /** True when a stale value exists and will be served if this load fails or is slow. */
  readonly hasStale: boolean;
}

/** Computes a value on a miss. Returning `undefined` caches nothing. */
export type Loader<T> = (context: LoaderContext) => T | PromiseLike<T>;

/** Operations reported by the `error` event. */
export type CacheOperation =
  | 'get'
  | 'set'
  | 'delete'
  | 'has'
  | 'getMany'
  | 'setMany'
  | 'clear'
  | 'deleteByTag'
  | 'load'
  | 'lock'
  | 'deserialize'
  | 'invalidate'
  | 'connection';

/** Why `getOrSet` answered with a stale value. */
export type StaleReason = 'refreshing' | 'soft-timeout' | 'hard-timeout' | 'loader-error' | 'peer-loading';

export interface CacheEvents {
  hit: { cache: string; key: string };
  miss: { cache: string; key: string };
  set: { cache: string; key: string };
  delete: { cache: string; key: string };
  clear: { cache: string };
  /** A store or loader failure the cache absorbed (fail open) or a background refresh failure. */
  error: { cache: string; operation: CacheOperation; key: string | undefined; error: unknown };
  /** A `getOrSet` caller joined a load already running for the key instead of starting its own. */
  stampedeDedup: { cache: string; key: string };
  staleServed: { cache: string; key: string; reason: StaleReason };
  /** A loader finished; `error` is set when it failed. */
  load: { cache: string; key: string; durationMs: number; error: unknown };
  /** An entry left a memory store on its own (L1 of a tiered cache included). */
  evict: { cache: string; key: string; reason: 'lru' | 'size' | 'expired' | 'too-large' };
  /** A peer's write or delete evicted keys from this instance's L1 (tiered caches). */
  invalidate: { cache: string; keys: readonly string[] | 'all' };
}

export interface CacheStats {
  name: string;
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 before the first read. */
  hitRate: number;
  sets: number;
  deletes: number;
  /** Failures absorbed by failing open, and background refresh failures. */
  errors: number;
  loads: number;
  loadErrors: number;
  stampedeDedups: number;
  staleServed: number;
  /** Memory stores: entries held, estimated bytes, evictions (LRU/size) and expirations. */
  entries?: number;
  bytes?: number;
  evictions?: number;
  expirations?: number;
  /** Redis-backed stores: state of the circuit breaker guarding Redis. */
  breaker?: string;
}

/** What `checkHealth()` of a Redis or tiered cache found. */
export interface CacheHealth {
  /**
   * `up`: Redis answers (and, for a tiered cache, peers' invalidations arrive). `down`: the cache
   * runs on its fallback: reads miss and writes are dropped (Redis cache), or the memory tier
   * answers within `l1.outageMaxAgeMs` (tiered cache).
   */
  status: 'up' | 'down';
  /** Whether Redis answered a PING within `commandTimeoutMs`. */
  redis: 'up' | 'down';
  /** State of the circuit breaker guarding Redis. */
  breaker: string;
  /** Tiered caches: whether the invalidation subscriber is subscribed. */
  invalidation?: 'live' | 'down';
  /** Milliseconds the PING took, when it answered. */
  latencyMs?: number;
  /** Why the cache is down. */
  message?: string;
}

/** Options of `close()`. */
export interface CloseOptions {
  /** Longest wait for work in flight (running loaders) before it is aborted. @default the cache's `closeTimeoutMs` */
  timeoutMs?: number;
}

/** Options every cache accepts. */
export interface CacheOptions {
  /**
   * Default seconds a value stays fresh; 0 keeps values until evicted or deleted.
   * @default 0
   */
  ttl?: number;
  /** Default grace period in seconds (see {@link SetOptions.grace}). @default 0 */
  grace?: number;
  /** Turns values into text and back. @default jsonSerializer (Dates round-trip) */
  serializer?: Serializer;
  /**
   * When the store fails: `true` turns reads into misses and drops writes, reporting each
   * failure through the `error` event; `false` throws `CACHE_UNAVAILABLE`.
   * @default true
   */
  failOpen?: boolean;
  /** Defaults for every `getOrSet`. @default { softTimeoutMs: 0, hardTimeoutMs: 0, lock: false } */
  getOrSet?: GetOrSetDefaults;
  /** Milliseconds `close()` waits for running loaders before aborting them. @default 5_000 */
  closeTimeoutMs?: number;
  /** Clock in epoch milliseconds, for tests. @default Date.now */
  now?: () => number;
  /**
   * Receives the failures the cache absorbs (`error` events) as `warn` lines, e.g. a pino logger.
   * @default undefined (nothing is logged; the `error` event still fires)
   */
  logger?: Logger;
}

/** The interface every cache implements: memory, Redis and tiered. */
export interface CacheService {
  readonly name: string;
  /** The fresh value, or `undefined` on a miss (a cached `null` is returned as `null`). */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores `value`; throws a coded error for a bad key, ttl or value, and then writes nothing. */
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** Returns true when a live entry was removed. */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]>;
  /** Stores every entry (validated all first: one bad entry writes none); `options` are defaults. */
  setMany(entries: readonly CacheEntryInput[], options?: SetOptions): Promise<void>;
  /** Removes every entry of this cache's namespace and nothing else. */
  clear(): Promise<void>;
  /** Removes every entry set with one of the tags; returns how many were removed. */
  deleteByTag(tag: string | readonly string[]): Promise<number>;
  /** The cached value, or the loader's, with stampede protection and stale-while-revalidate. */
  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions): Promise<T>;
  on<K extends keyof CacheEvents>(event: K, listener: (payload: CacheEvents[K]) => void): () => void;
  stats(): CacheStats;
  /**
   * Waits for running loaders (at most `timeoutMs`, by default `closeTimeoutMs`), aborts the rest,
   * then releases timers and connections. Idempotent.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Calls `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}
