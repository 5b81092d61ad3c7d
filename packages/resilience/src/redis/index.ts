export {
  RedisRateLimiterStore,
  type RedisRateLimiterStoreCloseOptions,
  type RedisRateLimiterStoreOptions,
} from './redis-store.js';
export { RATE_LIMIT_SCRIPT, RATE_LIMIT_SCRIPT_SHA } from './script.js';
