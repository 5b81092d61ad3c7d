import { BaseCacheService, type CacheStore } from '@infra/cache';

/** A store that keeps nothing: every read misses, every write is dropped. */
const nothingStore: CacheStore = {
  serializes: false,
  get: () => undefined,
  getMany: (keys) => keys.map(() => undefined),
  set: () => undefined,
  setMany: () => undefined,
  delete: () => false,
  clear: () => undefined,
  deleteByTags: () => 0,
  close: () => undefined,
};

/**
 * The cache used with `CACHE_ENABLED=false`: the same code path as a real cache (validation,
 * events, stats), without storage, so that every read goes to the database.
 */
export class DisabledCacheService extends BaseCacheService {
  constructor(name: string) {
    super(name, nothingStore);
  }
}
