import { InvalidOptionError } from './errors.js';

/** The rule of a rate limiter, as `RateLimiter#rule` of `@infra/resilience` exposes it. */
export interface RateLimitRuleLike {
  readonly algorithm: string;
  readonly limit: number;
  readonly windowMs: number;
}

/** One decision, as `RateLimiter#consume` of `@infra/resilience` returns it. */
export interface RateLimitDecisionLike {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly resetMs: number;
}

/** The `RateLimit-Policy` and `RateLimit` header field values of one decision. */
export interface RateLimitHeaderValues {
  /** `"name";q=100;w=60`: the quota and its window in seconds. */
  policy: string;
  /** `"name";r=42;t=18`: units left and seconds until the window that counted this request ends. */
  limit: string;
  /** Seconds to wait before retrying; set only when the request was refused. */
  retryAfter?: number;
}

/**
 * The header fields of draft-ietf-httpapi-ratelimit-headers for one decision. `t` is the number of
 * seconds until the counting window that holds this request ends, never more than the window:
 * a fixed window's end, a sliding window's current counter's end (its estimate of the previous
 * window keeps decaying after that), a token bucket's time to refill. A refused request gets
 * `t` = `Retry-After` = the seconds until the same request would be admitted (at least 1).
 */
export function rateLimitHeaderValues(
  policyName: string,
  rule: RateLimitRuleLike,
  decision: RateLimitDecisionLike,
): RateLimitHeaderValues {
  if (typeof policyName !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(policyName)) {
    throw new InvalidOptionError('policyName', policyName, 'a name of letters, digits, _ . : -');
  }
  const windowMs = rule.windowMs;
  const policy = `"${policyName}";q=${rule.limit};w=${Math.max(1, Math.ceil(windowMs / 1000))}`;
  if (!decision.allowed) {
    const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    return { policy, limit: `"${policyName}";r=0;t=${retryAfter}`, retryAfter };
  }
  const untilWindowEndMs = rule.algorithm === 'sliding-window' ? decision.resetMs - windowMs : decision.resetMs;
  const t = Math.ceil(Math.min(windowMs, Math.max(0, untilWindowEndMs)) / 1000);
  return { policy, limit: `"${policyName}";r=${Math.max(0, Math.floor(decision.remaining))};t=${t}` };
}
