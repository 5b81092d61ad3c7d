import type { RateLimitDecision, RateLimitRule } from './types.js';

/**
 * The three algorithms as pure functions of (state, now), shared by the memory store; the Redis
 * store runs the same arithmetic in Lua (`redis/script.ts`).
 */
export interface LimitState {
  /** fixed/sliding: start of the current window; token-bucket: theoretical arrival time (GCRA). */
  a: number;
  /** fixed/sliding: units counted in the current window. */
  b: number;
  /** sliding: units counted in the previous window. */
  c: number;
  /** When the state can be forgotten (epoch ms). */
  expiresAt: number;
}

export function decide(
  rule: RateLimitRule,
  state: LimitState | undefined,
  cost: number,
  now: number,
): { decision: RateLimitDecision; state: LimitState } {
  switch (rule.algorithm) {
    case 'fixed-window':
      return fixedWindow(rule, state, cost, now);
    case 'sliding-window':
      return slidingWindow(rule, state, cost, now);
    case 'token-bucket':
      return gcra(rule, state, cost, now);
  }
}

function fixedWindow(rule: RateLimitRule, prior: LimitState | undefined, cost: number, now: number) {
  const { limit, windowMs } = rule;
  const start = Math.floor(now / windowMs) * windowMs;
  const count = prior && prior.a === start ? prior.b : 0;
  const resetMs = start + windowMs - now;
  const allowed = count + cost <= limit;
  const used = allowed ? count + cost : count;
  return {
    decision: { allowed, limit, remaining: limit - used, retryAfterMs: allowed ? 0 : resetMs, resetMs },
    state: { a: start, b: used, c: 0, expiresAt: start + windowMs },
  };
}

function slidingWindow(rule: RateLimitRule, prior: LimitState | undefined, cost: number, now: number) {
  const { limit, windowMs } = rule;
  const start = Math.floor(now / windowMs) * windowMs;
  let current = 0;
  let previous = 0;
  if (prior) {
    if (prior.a === start) {
      current = prior.b;
      previous = prior.c;
    } else if (prior.a === start - windowMs) {
      previous = prior.b;
    }
  }
  const weight = 1 - (now - start) / windowMs;
  const estimate = previous * weight + current;
  const allowed = estimate + cost <= limit;
  if (allowed) current += cost;
  const used = previous * weight + current;
  let retryAfterMs = 0;
  if (!allowed) {
    // The previous window's share decays linearly; solve previous × (1 − t/W) + current + cost ≤ limit.
    retryAfterMs =
      current + cost <= limit && previous > 0
        ? Math.max(0, start + windowMs * (1 - (limit - current - cost) / previous) - now)
        : start + windowMs - now;
  }
  return {
    decision: {
      allowed,
      limit,
      remaining: Math.max(0, Math.floor(limit - used)),
      retryAfterMs,
      resetMs: start + 2 * windowMs - now,
    },
    state: { a: start, b: current, c: previous, expiresAt: start + 2 * windowMs },
  };
}

/** Token bucket as GCRA: one timestamp of state, a burst of `limit`, refill of limit per window. */
function gcra(rule: RateLimitRule, prior: LimitState | undefined, cost: number, now: number) {
  const { limit, windowMs } = rule;
  const interval = windowMs / limit;
  const tat = Math.max(prior?.a ?? now, now);
  const next = tat + cost * interval;
  const allowAt = next - windowMs;
  const allowed = allowAt <= now;
  const kept = allowed ? next : tat;
  return {
    decision: {
      allowed,
      limit,
      remaining: Math.max(0, Math.floor((windowMs - (kept - now)) / interval + 1e-9)),
      retryAfterMs: allowed ? 0 : allowAt - now,
      resetMs: kept - now,
    },
    state: { a: kept, b: 0, c: 0, expiresAt: kept },
  };
}
