export * from './circuit-breaker.js';
export type { SlidingWindowOptions } from './outcome-window.js';
export * from './retry.js';
export * from './retry-after.js';
export * from './timeout.js';
export * from './bulkhead.js';
export * from './token-bucket.js';
export * from './rate-limit/rate-limiter.js';
export * from './rate-limit/memory-store.js';
export * from './rate-limit/types.js';
export * from './throttler.js';
export * from './wrap.js';
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
