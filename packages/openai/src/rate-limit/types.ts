/** Limits of one budget key; 0 turns a dimension off. */
export interface TokenBudget {
  /** Length of the window the limits apply to (60 000 for per-minute limits). */
  windowMs: number;
  /** Requests admitted per window. */
  requests: number;
  /** Tokens admitted per window. */
  tokens: number;
}

export interface BudgetDecision {
  allowed: boolean;
  /** When refused: ms until the same request would be admitted; 0 when allowed. */
  retryAfterMs: number;
  /** Which limit refused the request. */
  scope: 'requests' | 'tokens' | undefined;
}

/**
 * Where request and token budgets live. Both dimensions are token buckets (GCRA: a burst of the
 * whole limit, refilled continuously over the window, which is how OpenAI replenishes its own
 * limits). `acquire` takes one request and `tokens` tokens atomically, or nothing; `adjust` gives
 * tokens back (negative delta) or charges more once the real usage is known.
 */
export interface TokenBudgetStore {
  acquire(key: string, budget: TokenBudget, tokens: number): Promise<BudgetDecision>;
  adjust(key: string, budget: TokenBudget, tokenDelta: number): Promise<void>;
  /** Releases what the store created (never a client that was handed to it). */
  close?(): Promise<void>;
}
