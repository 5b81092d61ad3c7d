export * from './types.js';
export * from './base-cache.js';
export type { CacheLookup } from './load-coordinator.js';
export * from './memory-cache.js';
export * from './cache-manager.js';
export * from './serializer.js';
export * from './store.js';
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
