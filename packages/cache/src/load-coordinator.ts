import { activeSpan } from '@infra/core';
import { InvalidCacheOptionError, LoaderTimeoutError, cacheClosed, check, isCacheError } from './errors.js';
import type { StoreLock } from './store.js';
import type { CacheEvents, GetOrSetDefaults, GetOrSetOptions, Loader, LockOptions, SetOptions } from './types.js';
import { assertTags, ttlMs } from './validate.js';

/** A read as `getOrSet` sees it: stale values inside their grace period count. */
export interface CacheLookup {
  /** `fresh` inside its TTL, `stale` past it but inside the grace period, `miss` otherwise. */
  state: 'fresh' | 'stale' | 'miss';
  /** The value read (`undefined` on a miss). */
  value: unknown;
}

/** What the coordinator needs from the cache it serves. */
export interface LoadHost {
  readonly name: string;
  readonly now: () => number;
  lock(): StoreLock | undefined;
  /** Reads and counts a hit or miss; never throws for a store failure. */
  lookup(key: string): Promise<CacheLookup>;
  /** Reads without counting; never throws for a store failure. */
  peek(key: string): Promise<CacheLookup>;
  write(key: string, value: unknown, options: SetOptions): Promise<void>;
  emit<K extends keyof CacheEvents>(event: K, payload: CacheEvents[K]): void;
}

interface Settings {
  softTimeoutMs: number;
  hardTimeoutMs: number;
  lock: Required<LockOptions> | undefined;
  set: SetOptions;
}

interface Flight {
  promise: Promise<unknown>;
  stale: { value: unknown } | undefined;
  controller: AbortController;
}

const noop = (): void => undefined;

/**
 * Runs `getOrSet` loaders at most once per key per process (single-flight), serves stale values
 * while one refresh runs or when it fails, bounds loaders with soft and hard timeouts, and, on
 * stores with locks, lets one instance of many load while the others wait for its value.
 */
export class LoadCoordinator {
  private readonly flights = new Map<string, Flight>();
  private closed = false;
  /** Reads in progress per key, shared by the callers that arrive meanwhile. */
  private readonly lookups = new Map<string, Promise<CacheLookup>>();
  private readonly host: LoadHost;
  private readonly defaults: GetOrSetDefaults;
  /** The settings of a call without options: the cache's defaults, resolved and checked once. */
  private readonly defaultSettings: Settings;

  constructor(host: LoadHost, defaults: GetOrSetDefaults) {
    this.host = host;
    this.defaults = defaults;
    this.defaultSettings = this.resolve(undefined);
  }

  get running(): number {
    return this.flights.size;
  }

  async getOrSet<T>(key: string, loader: Loader<T>, options: GetOrSetOptions | undefined): Promise<T> {
    check.fn('loader', loader);
    const settings = options === undefined ? this.defaultSettings : this.resolve(options);
    const running = this.flights.get(key);
    if (running) {
      activeSpan()?.setAttribute('cache.hit', false);
      return this.join(key, running) as Promise<T>;
    }
    const found = await this.lookup(key);
    activeSpan()?.setAttribute('cache.hit', found.state === 'fresh');
    if (found.state === 'fresh') return found.value as T;
    // close() may have drained while this caller was reading: no loader may start after it.
    if (this.closed) throw cacheClosed(this.host.name);
    // Another caller may have started a load while this one was reading.
    const started = this.flights.get(key);
    if (started) {
      if (found.state === 'stale') return this.serveStale(key, found.value, 'refreshing') as T;
      return this.join(key, started) as Promise<T>;
    }
    const stale = found.state === 'stale' ? { value: found.value } : undefined;
    const flight = this.start(key, loader, settings, stale);
    if (!stale) return flight.promise as Promise<T>;
    return this.preferFresh(key, flight, stale.value, settings.softTimeoutMs) as Promise<T>;
  }

  /**
   * One read per key at a time. Callers that each read for themselves could see a miss answered
   * before a load that started and finished while their read was on the wire, and load again;
   * sharing the read makes every caller resume together, in time to join the one load.
   */
  private lookup(key: string): Promise<CacheLookup> {
    let pending = this.lookups.get(key);
    if (!pending) {
      pending = this.host.lookup(key).finally(() => {
        this.lookups.delete(key);
      });
      this.lookups.set(key, pending);
    }
    return pending;
  }

  /** Waits up to `timeoutMs` for running loads, then aborts the rest. */
  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.flights.size === 0) return;
    const all = Promise.allSettled([...this.flights.values()].map((flight) => flight.promise));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([all, deadline]);
    clearTimeout(timer);
    const reason = cacheClosed(this.host.name, 'closed while loading');
    for (const flight of this.flights.values()) flight.controller.abort(reason);
  }

  private join(key: string, flight: Flight): unknown {
    if (flight.stale) return this.serveStale(key, flight.stale.value, 'refreshing');
    this.host.emit('stampedeDedup', { cache: this.host.name, key });
    return flight.promise;
  }

  private serveStale(key: string, value: unknown, reason: CacheEvents['staleServed']['reason']): unknown {
    this.host.emit('staleServed', { cache: this.host.name, key, reason });
    return value;
  }

  /** Gives the loader `softTimeoutMs` to answer before serving the stale value. */
  private preferFresh(key: string, flight: Flight, stale: unknown, softTimeoutMs: number): unknown {
    if (softTimeoutMs === 0) return this.serveStale(key, stale, 'refreshing');
    return new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => {
        resolve(this.serveStale(key, stale, 'soft-timeout'));
      }, softTimeoutMs);
      flight.promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          resolve(this.serveStale(key, stale, isCacheError(error, 'LOADER_TIMEOUT') ? 'hard-timeout' : 'loader-error'));
        },
      );
    });
  }

  private start(key: string, loader: Loader<unknown>, settings: Settings, stale: Flight['stale']): Flight {
    const flight: Flight = { promise: Promise.resolve(), stale, controller: new AbortController() };
    // Registered before the run starts, so that no caller can slip in a second load.
    this.flights.set(key, flight);
    flight.promise = this.run(key, loader, settings, flight).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    // Callers that got a stale value do not await the refresh; its failure is reported instead.
    flight.promise.catch(noop);
    return flight;
  }

  private async run(key: string, loader: Loader<unknown>, settings: Settings, flight: Flight): Promise<unknown> {
    const lock = settings.lock ? this.host.lock() : undefined;
    if (!lock || !settings.lock) return this.load(key, loader, settings, flight);
    let token: string | undefined;
    let lockFailed = false;
    try {
      token = await lock.acquire(key, settings.lock.ttlMs);
    } catch (error) {
      // Without the lock the worst case is one load per instance: better than no value.
      lockFailed = true;
      this.host.emit('error', { cache: this.host.name, operation: 'lock', key, error });
    }
    if (token === undefined && !lockFailed) {
      const peer = await this.waitForPeer(key, settings.lock, flight.controller.signal);
      if (peer) return peer.value;
    }
    try {
      if (token !== undefined) {
        // The previous holder may have stored the value between this caller's miss and its lock.
        const found = await this.host.peek(key);
        if (found.state === 'fresh') return found.value;
      }
      return await this.load(key, loader, settings, flight);
    } finally {
      if (token !== undefined) {
        lock.release(key, token).catch((error: unknown) => {
          this.host.emit('error', { cache: this.host.name, operation: 'lock', key, error });
        });
      }
    }
  }

  /** Polls for the value another instance is loading; undefined when it does not come in time. */
  private async waitForPeer(
    key: string,
    lock: Required<LockOptions>,
    signal: AbortSignal,
  ): Promise<CacheLookup | undefined> {
    const deadline = this.host.now() + lock.waitMs;
    while (!signal.aborted && this.host.now() < deadline) {
      await pause(lock.pollMs);
      const found = await this.host.peek(key);
      if (found.state === 'fresh') return found;
    }
    return undefined;
  }

  private async load(key: string, loader: Loader<unknown>, settings: Settings, flight: Flight): Promise<unknown> {
    const started = this.host.now();
    let value: unknown;
    try {
      value = await this.callLoader(key, loader, settings.hardTimeoutMs, flight);
    } catch (error) {
      this.host.emit('load', { cache: this.host.name, key, durationMs: this.host.now() - started, error });
      if (flight.stale) this.host.emit('error', { cache: this.host.name, operation: 'load', key, error });
      throw error;
    }
    this.host.emit('load', { cache: this.host.name, key, durationMs: this.host.now() - started, error: undefined });
    if (value !== undefined) await this.host.write(key, value, settings.set);
    return value;
  }

  private callLoader(key: string, loader: Loader<unknown>, hardTimeoutMs: number, flight: Flight): Promise<unknown> {
    const context = { key, signal: flight.controller.signal, hasStale: flight.stale !== undefined };
    if (hardTimeoutMs === 0) return Promise.resolve().then(() => loader(context));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new LoaderTimeoutError(key, hardTimeoutMs);
        flight.controller.abort(error);
        reject(error);
      }, hardTimeoutMs);
      Promise.resolve()
        .then(() => loader(context))
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
    });
  }

  private resolve(options: GetOrSetOptions | undefined): Settings {
    const raw: unknown = options;
    if (raw !== undefined && (typeof raw !== 'object' || raw === null)) {
      throw new InvalidCacheOptionError('options', options, 'an object');
    }
    const defaults = this.defaults;
    const set: SetOptions = {};
    // Validated before the loader runs: a bad ttl must not cost a load.
    if (options?.ttl !== undefined) set.ttl = (ttlMs('ttl', options.ttl) ?? 0) / 1000;
    if (options?.grace !== undefined) set.grace = (ttlMs('grace', options.grace) ?? 0) / 1000;
    if (options?.tags !== undefined) set.tags = assertTags(options.tags) ?? [];
    return {
      softTimeoutMs: check.nonNegative('softTimeoutMs', options?.softTimeoutMs ?? defaults.softTimeoutMs ?? 0),
      hardTimeoutMs: check.nonNegative('hardTimeoutMs', options?.hardTimeoutMs ?? defaults.hardTimeoutMs ?? 0),
      lock: lockSettings(options?.lock ?? defaults.lock ?? false),
      set,
    };
  }
}

function lockSettings(lock: unknown): Required<LockOptions> | undefined {
  if (lock === false) return undefined;
  if (lock !== true && (typeof lock !== 'object' || lock === null)) {
    throw new InvalidCacheOptionError('lock', lock, 'a boolean or { ttlMs, waitMs, pollMs }');
  }
  const options = (lock === true ? {} : lock) as LockOptions;
  return {
    ttlMs: check.integer('lock.ttlMs', options.ttlMs ?? 10_000),
    waitMs: check.nonNegative('lock.waitMs', options.waitMs ?? 5_000),
    pollMs: check.integer('lock.pollMs', options.pollMs ?? 25),
  };
}

// Timers a caller awaits stay ref'd (an unref'd one could let the process exit mid-await); each
// one fires or is cleared when the awaited work settles.
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}
