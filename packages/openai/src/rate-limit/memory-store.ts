import { InvalidOptionError } from '../errors.js';
import { acquire, adjust, expiresAt, type BudgetState } from './gcra.js';
import type { BudgetDecision, TokenBudget, TokenBudgetStore } from './types.js';

export interface MemoryTokenBudgetStoreOptions {
  /** Clock in epoch ms, for tests. @default Date.now */
  now?: () => number;
}

/**
 * Budgets of this process. Decisions are synchronous, hence atomic under any concurrency. Full
 * buckets are swept as the map grows, so memory follows the number of active keys (no timer).
 */
export class MemoryTokenBudgetStore implements TokenBudgetStore {
  private readonly states = new Map<string, BudgetState>();
  private readonly now: () => number;
  private sweepAt = 1024;

  constructor(options: MemoryTokenBudgetStoreOptions = {}) {
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new InvalidOptionError('now', options.now, 'a function returning epoch ms');
    }
    this.now = options.now ?? Date.now;
  }

  acquire(key: string, budget: TokenBudget, tokens: number): Promise<BudgetDecision> {
    return Promise.resolve(this.acquireSync(key, budget, tokens));
  }

  /** Same as `acquire`, without the promise. */
  acquireSync(key: string, budget: TokenBudget, tokens: number): BudgetDecision {
    const now = this.now();
    const { decision, state } = acquire(this.states.get(key), budget, tokens, now);
    if (state && decision.allowed) {
      this.states.set(key, state);
      if (this.states.size >= this.sweepAt) this.sweep(now);
    }
    return decision;
  }

  adjust(key: string, budget: TokenBudget, tokenDelta: number): Promise<void> {
    this.adjustSync(key, budget, tokenDelta);
    return Promise.resolve();
  }

  /** Same as `adjust`, without the promise. */
  adjustSync(key: string, budget: TokenBudget, tokenDelta: number): void {
    const state = adjust(this.states.get(key), budget, tokenDelta, this.now());
    if (state) this.states.set(key, state);
  }

  close(): Promise<void> {
    this.states.clear();
    return Promise.resolve();
  }

  private sweep(now: number): void {
    for (const [key, state] of this.states) {
      if (expiresAt(state) <= now) this.states.delete(key);
    }
    this.sweepAt = Math.max(1024, this.states.size * 2);
  }
}
