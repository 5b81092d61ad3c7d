import { InvalidCacheOptionError, check } from './errors.js';
import { InMemoryCacheService, type InMemoryCacheOptions } from './memory-cache.js';
import type { CacheService, CloseOptions } from './types.js';

/** Configuration of one named cache; driver-specific fields are ignored by other drivers. */
export interface CacheConfig extends InMemoryCacheOptions {
  /**
   * `memory` is built in; `redis` and `tiered` come from `redisDrivers()` in `@infra/cache/redis`.
   * @default 'memory'
   */
  driver?: string;
  /** Key namespace on shared stores (Redis). @default the cache name */
  namespace?: string;
  /** Redis key prefix before the namespace. @default 'infra:cache:' */
  keyPrefix?: string;
  /** Redis command timeout in ms. @default 1_000 */
  commandTimeoutMs?: number;
  /** In-process tier of a `tiered` cache. @default { maxEntries: 1_000, maxBytes: 16 MiB, ttl: 60 } */
  l1?: { maxEntries?: number; maxBytes?: number; ttl?: number; sweepIntervalMs?: number };
}

/** Creates caches of one kind; `close()` releases what the driver shares between its caches. */
export interface CacheDriver {
  create(name: string, config: CacheConfig): CacheService;
  close?(options?: CloseOptions): Promise<void>;
}

export interface CacheManagerOptions {
  /** Applied to every cache, under its own configuration. @default { driver: 'memory' } */
  defaults?: CacheConfig;
  /** Per-name configuration. A name not listed gets `defaults`. @default {} */
  caches?: Record<string, CacheConfig>;
  /** Extra drivers by name, e.g. `redisDrivers({ connection })`. `memory` is built in. @default {} */
  drivers?: Record<string, CacheDriver>;
  /** Throw for a name missing from `caches` instead of creating it from `defaults`. @default false */
  strict?: boolean;
}

const memoryDriver: CacheDriver = {
  create: (name, config) => new InMemoryCacheService(name, config),
};

/** Named caches from configuration, each created once on first `getCache` and reused. */
export class CacheManager {
  private readonly caches = new Map<string, CacheService>();
  private readonly defaults: CacheConfig;
  private readonly configs: Record<string, CacheConfig>;
  private readonly drivers: Record<string, CacheDriver>;
  private readonly strict: boolean;
  private closing: Promise<void> | undefined;

  constructor(options: CacheManagerOptions = {}) {
    const raw: unknown = options;
    if (typeof raw !== 'object' || raw === null) throw new InvalidCacheOptionError('options', options, 'an object');
    this.defaults = options.defaults ?? {};
    this.configs = options.caches ?? {};
    this.drivers = { memory: memoryDriver, ...options.drivers };
    this.strict = options.strict ?? false;
    for (const [name, config] of Object.entries(this.configs)) this.driverFor(name, { ...this.defaults, ...config });
    this.driverFor('defaults', this.defaults);
  }

  /** The cache called `name`, created from its configuration on first use. */
  getCache(name: string): CacheService {
    check.nonEmptyString('name', name);
    const existing = this.caches.get(name);
    if (existing) return existing;
    if (this.closing) throw new InvalidCacheOptionError('name', name, 'a cache of a manager that is not closed');
    const own = Object.hasOwn(this.configs, name) ? this.configs[name] : undefined;
    if (this.strict && own === undefined) {
      throw new InvalidCacheOptionError(
        'name',
        name,
        `one of the configured caches (${Object.keys(this.configs).join(', ')})`,
      );
    }
    const config = { ...this.defaults, ...own };
    const cache = this.driverFor(name, config).create(name, config);
    this.caches.set(name, cache);
    return cache;
  }

  /** Names of the caches created so far. */
  names(): string[] {
    return [...this.caches.keys()];
  }

  /**
   * Closes every cache (each waiting at most `timeoutMs` for its running loaders), then what the
   * drivers share (connections they created). Idempotent.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs === undefined ? undefined : check.nonNegative('timeoutMs', options.timeoutMs);
    this.closing ??= this.shutdown(timeoutMs === undefined ? {} : { timeoutMs });
    return this.closing;
  }

  /** @deprecated Use {@link close}; `closeAll()` is an alias of it. */
  closeAll(): Promise<void> {
    return this.close();
  }

  /** Calls {@link close}: `await using manager = new CacheManager(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(options: CloseOptions): Promise<void> {
    const caches = [...this.caches.values()];
    this.caches.clear();
    await Promise.all(caches.map((cache) => cache.close(options)));
    await Promise.all(Object.values(this.drivers).map((driver) => driver.close?.(options) ?? Promise.resolve()));
  }

  private driverFor(name: string, config: CacheConfig): CacheDriver {
    const driver = config.driver ?? 'memory';
    const found = Object.hasOwn(this.drivers, driver) ? this.drivers[driver] : undefined;
    if (!found) {
      const hint =
        driver === 'redis' || driver === 'tiered' ? " (pass drivers: redisDrivers(...) from '@infra/cache/redis')" : '';
      throw new InvalidCacheOptionError(
        `caches.${name}.driver`,
        driver,
        `one of ${Object.keys(this.drivers).join(', ')}${hint}`,
      );
    }
    return found;
  }
}
