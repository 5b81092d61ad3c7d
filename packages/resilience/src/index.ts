export { CircuitBreaker } from './circuit-breaker.js';
export type {
  BreakerExecuteOptions,
  CircuitBreakerEvents,
  CircuitBreakerOptions,
  CircuitBreakerStats,
  CircuitState,
} from './circuit-breaker.js';
export type { SlidingWindowOptions } from './outcome-window.js';
export { RetryPolicy, retry, defaultShouldRetry } from './retry.js';
export type { Jitter, RetryEvents, RetryOptions } from './retry.js';
export { retryAfterMs } from './retry-after.js';
export { TimeoutPolicy, timeout } from './timeout.js';
export type { TimeoutStrategy } from './timeout.js';
export { Bulkhead, bulkhead } from './bulkhead.js';
export type { BulkheadCloseOptions, BulkheadOptions } from './bulkhead.js';
export { TokenBucket } from './token-bucket.js';
export type { TokenBucketOptions } from './token-bucket.js';
export { RateLimiter } from './rate-limit/rate-limiter.js';
export type {
  RateLimiterCloseOptions,
  RateLimiterEvents,
  RateLimiterOptions,
  StoreErrorAction,
} from './rate-limit/rate-limiter.js';
export { MemoryRateLimiterStore } from './rate-limit/memory-store.js';
export type { MemoryRateLimiterStoreOptions } from './rate-limit/memory-store.js';
export type { RateLimitAlgorithm, RateLimitDecision, RateLimitRule, RateLimiterStore } from './rate-limit/types.js';
export { Throttler } from './throttler.js';
export type { ThrottlerCloseOptions, ThrottlerOptions } from './throttler.js';
export { PolicyPipeline, wrap } from './wrap.js';
export type { ExecuteOptions, Policy, PolicyContext, PolicyFn } from './policy.js';
export {
  AbortedError,
  BulkheadFullError,
  CircuitOpenError,
  ErrorCodes,
  InvalidOptionError,
  RateLimitedError,
  ResilienceError,
  TimeoutError,
  isResilienceError,
} from './errors.js';
export type { ErrorCode, ResilienceErrorsByCode } from './errors.js';
