export type {
  CacheEntryInput,
  CacheEvents,
  CacheOperation,
  CacheOptions,
  CacheService,
  CacheHealth,
  CacheStats,
  CloseOptions,
  GetOrSetDefaults,
  GetOrSetOptions,
  Loader,
  LoaderContext,
  LockOptions,
  SetOptions,
  StaleReason,
} from './types.js';
export { BaseCacheService } from './base-cache.js';
export { InMemoryCacheService } from './memory-cache.js';
export type { InMemoryCacheOptions } from './memory-cache.js';
export { CacheManager } from './cache-manager.js';
export type { CacheConfig, CacheDriver, CacheManagerOptions } from './cache-manager.js';
export { DATE_TAG, jsonSerializer } from './serializer.js';
export type { Serializer } from './serializer.js';
export type { CacheStore, StoreLock, StoreRecord, StoreWrite } from './store.js';
export {
  CacheError,
  CacheErrorCodes,
  CacheUnavailableError,
  InvalidCacheOptionError,
  InvalidKeyError,
  InvalidTtlError,
  LoaderTimeoutError,
  UnserializableValueError,
  isCacheError,
} from './errors.js';
export type { CacheErrorCode, CacheErrorsByCode } from './errors.js';
