import { EventHub, type TelemetrySpan, type TelemetrySpanOptions, tracingEnabled, withSpan } from '@infra/core';
import {
  CacheError,
  CacheUnavailableError,
  InvalidCacheOptionError,
  UnserializableValueError,
  cacheClosed,
  check,
  isCacheError,
} from './errors.js';
import { LoadCoordinator, type LoadHost, type CacheLookup } from './load-coordinator.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import type { CacheStore, StoreRecord, StoreWrite } from './store.js';
import type {
  CacheEntryInput,
  CacheEvents,
  CacheOperation,
  CacheOptions,
  CacheService,
  CloseOptions,
  CacheStats,
  GetOrSetOptions,
  Loader,
  SetOptions,
} from './types.js';
import { tracer } from './telemetry.js';
import { assertKey, assertTags, ttlMs } from './validate.js';

/** The counters `stats()` reports as they are (a driver subclass reads them as `this.counters`). */
export type CacheCounters = Pick<
  CacheStats,
  'hits' | 'misses' | 'sets' | 'deletes' | 'errors' | 'loads' | 'loadErrors' | 'stampedeDedups' | 'staleServed'
>;

/**
 * A cache over any {@link CacheStore}: validation, serialization, freshness, events, stats,
 * failing open, and `getOrSet` with stampede protection. The drivers subclass it.
 */
export class BaseCacheService implements CacheService {
  readonly name: string;
  protected readonly store: CacheStore;
  protected readonly events: EventHub<CacheEvents> = new EventHub<CacheEvents>();
  protected readonly counters: CacheCounters = {
    hits: 0,
    misses: 0,
    sets: 0,
    deletes: 0,
    errors: 0,
    loads: 0,
    loadErrors: 0,
    stampedeDedups: 0,
    staleServed: 0,
  };
  readonly now: () => number;
  private readonly ttlMs: number;
  private readonly graceMs: number;
  /** Undefined when the cache keeps references: the store then holds the values themselves. */
  private readonly serializer: Serializer | undefined;
  private readonly failOpen: boolean;
  private readonly loads: LoadCoordinator;
  private readonly closeTimeoutMs: number;
  private closing: Promise<void> | undefined;
  private readonly spanOptions: TelemetrySpanOptions;

  /**
   * @param byReference the store keeps the values themselves, neither serialized nor copied (the
   * memory cache's `serialize: false`); `options.serializer` is then unused.
   */
  constructor(name: string, store: CacheStore, options: CacheOptions = {}, byReference = false) {
    this.name = check.nonEmptyString('name', name);
    this.store = store;
    this.ttlMs = ttlMs('ttl', options.ttl ?? 0) ?? 0;
    this.graceMs = ttlMs('grace', options.grace ?? 0) ?? 0;
    const serializer = options.serializer ?? jsonSerializer;
    if (typeof serializer.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
      throw new InvalidCacheOptionError('serializer', serializer, 'an object with serialize() and deserialize()');
    }
    this.serializer = check.boolean('byReference', byReference) ? undefined : serializer;
    this.failOpen = check.boolean('failOpen', options.failOpen ?? true);
    this.now = check.optionalFn<() => number>('now', options.now) ?? Date.now;
    const host: LoadHost = {
      name: this.name,
      now: this.now,
      lock: () => this.store.lock,
      lookup: (key) => this.lookup(key),
      peek: (key) => this.peek(key),
      write: (key, value, setOptions) => this.writeRecord(key, this.prepare(value, setOptions)),
      emit: (event, payload) => {
        this.emit(event, payload);
      },
    };
    this.loads = new LoadCoordinator(host, options.getOrSet ?? {});
    this.closeTimeoutMs = check.nonNegative('closeTimeoutMs', options.closeTimeoutMs ?? 5000);
    const logger = check.optionalLogger('logger', options.logger);
    if (logger !== undefined) {
      this.events.on('error', ({ cache, operation, key, error }) => {
        logger.warn({ cache, operation, key, err: error }, `cache "${cache}": ${operation} failed`);
      });
    }
    this.spanOptions = { attributes: { 'cache.name': this.name, 'cache.tier': store.tier ?? 'custom' } };
  }

  on<K extends keyof CacheEvents>(event: K, listener: (payload: CacheEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    // Tested first so that an untraced call goes straight to the work (PERFORMANCE.md, tracing).
    if (!tracingEnabled()) return this.read<T>(key, undefined);
    return withSpan(tracer, 'cache get', this.spanOptions, (span) => this.read<T>(key, span));
  }

  private read<T>(key: string, span: TelemetrySpan | undefined): Promise<T | undefined> {
    try {
      this.assertOpen(assertKey(key));
    } catch (error) {
      return Promise.reject(error);
    }
    const now = this.now();
    let pending: Promise<StoreRecord | undefined> | StoreRecord | undefined;
    try {
      pending = this.store.get(key, now);
    } catch (error) {
      span?.setAttribute('cache.hit', false);
      return this.lookupFailed(key, 'get', error).then(() => undefined);
    }
    // A synchronous store (memory) answers without an async frame: a hit costs one resolved promise.
    // Plain async/await here made a memory hit about 40 % slower against lru-cache (PERFORMANCE.md).
    if (pending instanceof Promise)
      return this.lookupAsync(key, 'get', pending).then((found) => freshValue(found, span) as T | undefined);
    return Promise.resolve(freshValue(this.found(key, pending, now), span) as T | undefined);
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen(assertKey(key));
    let record: StoreRecord | undefined;
    try {
      record = await this.store.get(key);
    } catch (error) {
      this.absorb('has', key, error);
      return false;
    }
    return record !== undefined && record.freshUntil > this.now();
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    const list: unknown = keys;
    if (!Array.isArray(list)) throw new InvalidCacheOptionError('keys', keys, 'an array of keys');
    for (const key of list as unknown[]) assertKey(key);
    this.assertOpen();
    if (keys.length === 0) return [];
    let records: (StoreRecord | undefined)[];
    try {
      records = await this.store.getMany(keys);
    } catch (error) {
      this.absorb('getMany', undefined, error);
      for (const key of keys) this.countMiss(key);
      return keys.map(() => undefined);
    }
    const now = this.now();
    return keys.map((key, i) => {
      const found = this.decodeRecord(key, records[i], now);
      if (found.state === 'fresh') {
        this.countHit(key);
        return found.value as T;
      }
      this.countMiss(key);
      return undefined;
    });
  }

  set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    if (!tracingEnabled()) return this.write(key, value, options);
    return withSpan(tracer, 'cache set', this.spanOptions, () => this.write(key, value, options));
  }

  private write(key: string, value: unknown, options: SetOptions | undefined): Promise<void> {
    let write: StoreWrite;
    try {
      this.assertOpen(assertKey(key));
      write = this.prepare(value, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writeRecord(key, write);
  }

  async setMany(entries: readonly CacheEntryInput[], options?: SetOptions): Promise<void> {
    const list: unknown = entries;
    if (!Array.isArray(list)) throw new InvalidCacheOptionError('entries', entries, 'an array of { key, value }');
    this.assertOpen();
    // Everything is validated and serialized before the first write: one bad entry writes nothing.
    const writes = entries.map((entry: CacheEntryInput) => {
      const raw: unknown = entry;
      if (typeof raw !== 'object' || raw === null) {
        throw new InvalidCacheOptionError('entries[]', entry, 'an object { key, value }');
      }
      const key = assertKey(entry.key);
      return [key, this.prepare(entry.value, { ...options, ...definedOf(entry) })] as const;
    });
    if (writes.length === 0) return;
    try {
      await this.store.setMany(writes);
    } catch (error) {
      this.absorb('setMany', undefined, error);
      return;
    }
    for (const [key] of writes) this.countSet(key);
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen(assertKey(key));
    let removed: boolean;
    try {
      removed = await this.store.delete(key);
    } catch (error) {
      this.absorb('delete', key, error);
      return false;
    }
    this.counters.deletes++;
    if (this.events.has('delete')) this.events.emit('delete', { cache: this.name, key });
    return removed;
  }

  async clear(): Promise<void> {
    this.assertOpen();
    try {
      await this.store.clear();
    } catch (error) {
      this.absorb('clear', undefined, error);
      return;
    }
    if (this.events.has('clear')) this.events.emit('clear', { cache: this.name });
  }

  async deleteByTag(tag: string | readonly string[]): Promise<number> {
    const tags = typeof tag === 'string' ? [assertKey(tag, 'tag')] : assertTags(tag);
    this.assertOpen();
    if (!tags || tags.length === 0) return 0;
    try {
      return await this.store.deleteByTags(tags);
    } catch (error) {
      this.absorb('deleteByTag', undefined, error);
      return 0;
    }
  }

  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions): Promise<T> {
    this.assertOpen(assertKey(key));
    if (!tracingEnabled()) return this.loads.getOrSet(key, loader, options);
    return withSpan(tracer, 'cache getOrSet', this.spanOptions, () => this.loads.getOrSet(key, loader, options));
  }

  stats(): CacheStats {
    const { hits, misses } = this.counters;
    return { name: this.name, ...this.counters, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) };
  }

  /**
   * Waits for running loaders (at most `timeoutMs`, by default the cache's `closeTimeoutMs`),
   * aborts those still running, then closes the store: its timers and the connections it created.
   * Idempotent: later calls return the first call's promise.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const timeoutMs = check.nonNegative('timeoutMs', options.timeoutMs ?? this.closeTimeoutMs);
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  /** Calls {@link close}: `await using cache = new InMemoryCacheService(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    await this.loads.drain(timeoutMs);
    await this.store.close({ timeoutMs });
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  // ---- internals ----

  /** Reads a key, counting a hit or a miss; a store failure is a miss (fail open). */
  protected lookup(key: string, operation: CacheOperation = 'get'): Promise<CacheLookup> {
    let pending: Promise<StoreRecord | undefined> | StoreRecord | undefined;
    try {
      pending = this.store.get(key);
    } catch (error) {
      return this.lookupFailed(key, operation, error);
    }
    return pending instanceof Promise
      ? this.lookupAsync(key, operation, pending)
      : Promise.resolve(this.found(key, pending));
  }

  private async lookupAsync(
    key: string,
    operation: CacheOperation,
    pending: Promise<StoreRecord | undefined>,
  ): Promise<CacheLookup> {
    let record: StoreRecord | undefined;
    try {
      record = await pending;
    } catch (error) {
      return this.lookupFailed(key, operation, error);
    }
    return this.found(key, record);
  }

  /** A store failure is a miss (fail open), or `CACHE_UNAVAILABLE` when the cache does not fail open. */
  private lookupFailed(key: string, operation: CacheOperation, error: unknown): Promise<CacheLookup> {
    try {
      this.absorb(operation, key, error);
    } catch (unavailable) {
      return Promise.reject(unavailable);
    }
    this.countMiss(key);
    return Promise.resolve({ state: 'miss', value: undefined });
  }

  /** Decodes a record and counts the hit or miss. */
  private found(key: string, record: StoreRecord | undefined, now: number = this.now()): CacheLookup {
    const found = this.decodeRecord(key, record, now);
    if (found.state === 'fresh') this.countHit(key);
    else this.countMiss(key);
    return found;
  }

  /** Reads a key without counting it, for a peer waiting on another instance's load. */
  private async peek(key: string): Promise<CacheLookup> {
    try {
      return this.decodeRecord(key, await this.store.get(key), this.now());
    } catch {
      return { state: 'miss', value: undefined };
    }
  }

  protected emit<K extends keyof CacheEvents>(event: K, payload: CacheEvents[K]): void {
    if (event === 'stampedeDedup') this.counters.stampedeDedups++;
    else if (event === 'staleServed') this.counters.staleServed++;
    else if (event === 'load') {
      this.counters.loads++;
      if ((payload as CacheEvents['load']).error !== undefined) this.counters.loadErrors++;
    } else if (event === 'error') this.counters.errors++;
    if (this.events.has(event)) this.events.emit(event, payload);
  }

  protected assertOpen(_key?: string): void {
    if (this.closing) throw cacheClosed(this.name);
  }

  /** Reports a store failure; rethrows it as `CACHE_UNAVAILABLE` unless the cache fails open. */
  protected absorb(operation: CacheOperation, key: string | undefined, error: unknown): void {
    if (!this.failOpen) {
      throw isCacheError(error) ? error : new CacheUnavailableError(this.name, `${operation} failed`, error);
    }
    this.emit('error', { cache: this.name, operation, key, error });
  }

  private prepare(value: unknown, options: SetOptions | undefined): StoreWrite {
    const ttl = ttlMs('ttl', options?.ttl) ?? this.ttlMs;
    const grace = ttlMs('grace', options?.grace) ?? this.graceMs;
    const tags = assertTags(options?.tags);
    const payload = this.serializer ? this.serializer.serialize(value) : checkReference(value);
    const now = this.now();
    const freshUntil = ttl > 0 ? now + ttl : Infinity;
    return { payload, freshUntil, expiresAt: ttl > 0 ? freshUntil + grace : Infinity, tags };
  }

  private writeRecord(key: string, write: StoreWrite): Promise<void> {
    let pending: Promise<void> | void;
    try {
      pending = this.store.set(key, write);
    } catch (error) {
      return this.writeFailed(key, error);
    }
    // A synchronous store (memory) writes without an async frame, as `get` reads.
    if (pending instanceof Promise) {
      return pending.then(
        () => {
          this.countSet(key);
        },
        (error: unknown) => this.writeFailed(key, error),
      );
    }
    this.countSet(key);
    return Promise.resolve();
  }

  /** A failed write is dropped and reported (fail open), or `CACHE_UNAVAILABLE` when the cache does not fail open. */
  private writeFailed(key: string, error: unknown): Promise<void> {
    try {
      this.absorb('set', key, error);
    } catch (unavailable) {
      return Promise.reject(unavailable);
    }
    return Promise.resolve();
  }

  private decodeRecord(key: string, record: StoreRecord | undefined, now: number): CacheLookup {
    if (record === undefined) return { state: 'miss', value: undefined };
    let value: unknown;
    if (this.serializer) {
      try {
        value = this.serializer.deserialize(record.payload as string);
      } catch (error) {
        this.emit('error', {
          cache: this.name,
          operation: 'deserialize',
          key,
          error: new CacheError('DESERIALIZATION_FAILED', `Cannot read the cached value of "${key}"`, { cause: error }),
        });
        return { state: 'miss', value: undefined };
      }
    } else {
      value = record.payload;
    }
    return { state: record.freshUntil > now ? 'fresh' : 'stale', value };
  }

  private countHit(key: string): void {
    this.counters.hits++;
    if (this.events.has('hit')) this.events.emit('hit', { cache: this.name, key });
  }

  private countMiss(key: string): void {
    this.counters.misses++;
    if (this.events.has('miss')) this.events.emit('miss', { cache: this.name, key });
  }

  private countSet(key: string): void {
    this.counters.sets++;
    if (this.events.has('set')) this.events.emit('set', { cache: this.name, key });
  }
}

function freshValue(found: CacheLookup, span: TelemetrySpan | undefined): unknown {
  span?.setAttribute('cache.hit', found.state === 'fresh');
  return found.state === 'fresh' ? found.value : undefined;
}

/** The per-entry options of a `setMany` entry, without its key and value. */
function definedOf(entry: CacheEntryInput): SetOptions {
  const options: SetOptions = {};
  if (entry.ttl !== undefined) options.ttl = entry.ttl;
  if (entry.grace !== undefined) options.grace = entry.grace;
  if (entry.tags !== undefined) options.tags = entry.tags;
  return options;
}

/** By-reference stores keep the value itself; `undefined` would still read as a miss. */
function checkReference(value: unknown): unknown {
  if (value === undefined) throw new UnserializableValueError('$', 'undefined means "miss" and cannot be stored');
  return value;
}
