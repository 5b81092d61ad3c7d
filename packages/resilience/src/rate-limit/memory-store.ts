import { check } from '../errors.js';
import { decide, type LimitState } from './algorithms.js';
import type { RateLimitDecision, RateLimitRule, RateLimiterStore } from './types.js';

export interface MemoryRateLimiterStoreOptions {
  /** Clock in epoch ms, for tests. @default Date.now */
  now?: () => number;
}

/**
 * Rate-limit state in this process. Decisions are synchronous, hence atomic. Expired keys are
 * swept as the map grows, so memory follows the number of active keys (no timer is kept).
 */
export class MemoryRateLimiterStore implements RateLimiterStore {
  private readonly states = new Map<string, LimitState>();
  private readonly now: () => number;
  private sweepAt = 1024;

  constructor(options: MemoryRateLimiterStoreOptions = {}) {
    this.now = check.optionalFn<() => number>('now', options.now) ?? Date.now;
  }

  /** Keys currently held. */
  get size(): number {
    return this.states.size;
  }

  consume(key: string, rule: RateLimitRule, cost: number): Promise<RateLimitDecision> {
    const now = this.now();
    const prior = this.states.get(key);
    const { decision, state } = decide(rule, prior && prior.expiresAt > now ? prior : undefined, cost, now);
    this.states.set(key, state);
    if (this.states.size >= this.sweepAt) this.sweep(now);
    return Promise.resolve(decision);
  }

  reset(key: string): Promise<void> {
    this.states.delete(key);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.states.clear();
    return Promise.resolve();
  }

  private sweep(now: number): void {
    for (const [key, state] of this.states) {
      if (state.expiresAt <= now) this.states.delete(key);
    }
    this.sweepAt = Math.max(1024, this.states.size * 2);
  }
}
