export type RateLimitAlgorithm = 'fixed-window' | 'sliding-window' | 'token-bucket';

/** What a store needs to decide one request. */
export interface RateLimitRule {
  algorithm: RateLimitAlgorithm;
  /** Requests (or cost units) admitted per window. */
  limit: number;
  /** Window length in ms; for `token-bucket`, the time to refill a full bucket of `limit` tokens. */
  windowMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Units still admissible right now. */
  remaining: number;
  /** When denied: ms until the same request would be admitted; 0 when allowed. */
  retryAfterMs: number;
  /** Ms until the limit is fully available again. */
  resetMs: number;
}

/**
 * Where rate-limit state lives. A store must decide atomically: concurrent `consume` calls for one
 * key never admit more than the rule allows. Run `rateLimiterStoreContract` from the test utilities
 * against a custom store.
 */
export interface RateLimiterStore {
  consume(key: string, rule: RateLimitRule, cost: number): Promise<RateLimitDecision>;
  /** Forgets the state of `key`. */
  reset(key: string): Promise<void>;
  /** Releases what the store created (connections, timers). */
  close?(): Promise<void>;
}
