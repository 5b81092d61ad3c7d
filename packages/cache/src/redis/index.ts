export { RedisCacheService } from './redis-cache.js';
export type { RedisCacheOptions, RedisConnectionOptions } from './redis-options.js';
export { TieredCacheService } from './tiered-cache.js';
export type { L1Options, TieredCacheOptions } from './tiered-cache.js';
export { redisDrivers } from './drivers.js';
export type { RedisDriversOptions } from './drivers.js';
export type { RedisClient } from './redis-store.js';
