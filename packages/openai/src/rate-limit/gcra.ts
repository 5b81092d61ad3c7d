import type { BudgetDecision, TokenBudget } from './types.js';

/**
 * The arithmetic shared by the memory store and the Redis script (`redis/script.ts` does the same
 * in Lua). A bucket's whole state is its theoretical arrival time (TAT): the bucket is full when
 * TAT <= now, and a cost of c moves TAT by c × (window / limit).
 */
export interface BudgetState {
  /** TAT of the request bucket (epoch ms). */
  r: number;
  /** TAT of the token bucket (epoch ms). */
  t: number;
}

export function acquire(
  state: BudgetState | undefined,
  budget: TokenBudget,
  tokens: number,
  now: number,
): { decision: BudgetDecision; state: BudgetState | undefined } {
  const { windowMs } = budget;
  let nextR = state?.r ?? now;
  let nextT = state?.t ?? now;
  let waitR = 0;
  let waitT = 0;
  if (budget.requests > 0) {
    nextR = Math.max(nextR, now) + windowMs / budget.requests;
    waitR = Math.max(0, nextR - windowMs - now);
  }
  if (budget.tokens > 0 && tokens > 0) {
    nextT = Math.max(nextT, now) + (Math.min(tokens, budget.tokens) * windowMs) / budget.tokens;
    waitT = Math.max(0, nextT - windowMs - now);
  }
  const allowed = waitR === 0 && waitT === 0;
  const decision: BudgetDecision = {
    allowed,
    retryAfterMs: Math.max(waitR, waitT),
    scope: allowed ? undefined : waitR >= waitT ? 'requests' : 'tokens',
  };
  const next: BudgetState | undefined = allowed ? { r: nextR, t: nextT } : state;
  return { decision, state: next };
}

/** Moves the token bucket by `delta` tokens; a refund never fills it past full. */
export function adjust(
  state: BudgetState | undefined,
  budget: TokenBudget,
  delta: number,
  now: number,
): BudgetState | undefined {
  if (budget.tokens <= 0 || delta === 0) return state;
  const tat = Math.max(state?.t ?? now, now);
  return { r: state?.r ?? now, t: Math.max(now, tat + (delta * budget.windowMs) / budget.tokens) };
}

/** When a state can be forgotten: both buckets are full again. */
export function expiresAt(state: BudgetState): number {
  return Math.max(state.r, state.t);
}
