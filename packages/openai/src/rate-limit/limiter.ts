import { sleep } from '@infra/core';
import { OpenAIClientError, InvalidOptionError } from '../errors.js';
import { integer, nonEmptyString, nonNegative, positive } from '../validate.js';
import { MemoryTokenBudgetStore } from './memory-store.js';
import type { TokenBudget, TokenBudgetStore } from './types.js';

export interface RateLimitOptions {
  /** Requests admitted per window (per minute by default). Off when unset or 0. */
  requestsPerMinute?: number;
  /** Prompt + completion tokens admitted per window (per minute by default). Off when unset or 0. */
  tokensPerMinute?: number;
  /**
   * How long a call may wait for budget before failing with `RATE_LIMITED`. 0 fails at once.
   * The caller's AbortSignal ends the wait early.
   * @default 30_000
   */
  maxWaitMs?: number;
  /**
   * Where budgets live: a `MemoryTokenBudgetStore` (this process) or a `RedisTokenBudgetStore`
   * from `@infra/openai/redis` (shared by every instance). A store you pass is not closed by the
   * client.
   * @default a new MemoryTokenBudgetStore
   */
  store?: TokenBudgetStore;
  /** Budget key; clients that share a store and a key share one budget. @default the client's `name` */
  key?: string;
  /** Window of the limits in ms; the names say "per minute" because that is OpenAI's unit. @default 60_000 */
  windowMs?: number;
  /**
   * Completion tokens reserved for a request that sets no `max_tokens` /
   * `max_completion_tokens` / `max_output_tokens`; corrected from `usage` afterwards.
   * @default 256
   */
  defaultCompletionTokens?: number;
  /**
   * When the store fails (Redis down): `allow` the call (OpenAI still enforces its own limits) or
   * `throw` a `STORE_UNAVAILABLE` error.
   * @default 'allow'
   */
  onStoreError?: 'allow' | 'throw';
}

/** Budget taken by one attempt, to be corrected once its real usage is known. */
export interface Reservation {
  tokens: number;
}

export interface LimiterHooks {
  rateLimited(payload: { scope: 'requests' | 'tokens'; retryAfterMs: number; waiting: boolean }): void;
  storeError(error: unknown): void;
}

/** Client-side RPM/TPM limiter: reserves an estimate before a call, corrects it afterwards. */
export class TokenBudgetLimiter {
  readonly budget: TokenBudget;
  readonly key: string;
  readonly maxWaitMs: number;
  readonly defaultCompletionTokens: number;
  readonly store: TokenBudgetStore;
  readonly ownsStore: boolean;
  private readonly onStoreError: 'allow' | 'throw';

  constructor(options: RateLimitOptions, defaultKey: string) {
    this.budget = {
      windowMs: positive('rateLimit.windowMs', options.windowMs, 60_000),
      requests: integer('rateLimit.requestsPerMinute', options.requestsPerMinute, 0),
      tokens: integer('rateLimit.tokensPerMinute', options.tokensPerMinute, 0),
    };
    this.key = nonEmptyString('rateLimit.key', options.key, defaultKey);
    this.maxWaitMs = nonNegative('rateLimit.maxWaitMs', options.maxWaitMs, 30_000);
    this.defaultCompletionTokens = integer('rateLimit.defaultCompletionTokens', options.defaultCompletionTokens, 256);
    const store = options.store;
    if (store !== undefined && (typeof store.acquire !== 'function' || typeof store.adjust !== 'function')) {
      throw new InvalidOptionError('rateLimit.store', store, 'a TokenBudgetStore (acquire, adjust)');
    }
    this.store = store ?? new MemoryTokenBudgetStore();
    this.ownsStore = store === undefined;
    const onStoreError: unknown = options.onStoreError ?? 'allow';
    if (onStoreError !== 'allow' && onStoreError !== 'throw') {
      throw new InvalidOptionError('rateLimit.onStoreError', onStoreError, '"allow" or "throw"');
    }
    this.onStoreError = onStoreError;
  }

  /** True when a limit is set at all. */
  get enabled(): boolean {
    return this.budget.requests > 0 || this.budget.tokens > 0;
  }

  /**
   * Takes one request and `tokens` tokens, waiting up to `maxWaitMs`; throws `RATE_LIMITED` when
   * the budget will not be there in time. A request larger than the whole token budget is charged
   * the whole budget, so that it waits for a full bucket instead of never running.
   */
  async acquire(tokens: number, signal: AbortSignal, hooks: LimiterHooks): Promise<Reservation> {
    const cost = this.cost(tokens);
    const deadline = Date.now() + this.maxWaitMs;
    for (;;) {
      let decision;
      try {
        decision = await this.store.acquire(this.key, this.budget, cost);
      } catch (error) {
        hooks.storeError(error);
        if (this.onStoreError === 'allow') return { tokens: 0 };
        throw new OpenAIClientError('STORE_UNAVAILABLE', `Rate-limit store failed for budget "${this.key}"`, {
          cause: error,
          isRetryable: true,
        });
      }
      if (decision.allowed) return { tokens: cost };
      const scope = decision.scope ?? 'requests';
      const waiting = Date.now() + decision.retryAfterMs <= deadline;
      hooks.rateLimited({ scope, retryAfterMs: decision.retryAfterMs, waiting });
      if (!waiting) {
        const limit = scope === 'requests' ? this.budget.requests : this.budget.tokens;
        throw new OpenAIClientError(
          'RATE_LIMITED',
          `Client-side ${scope} limit of ${limit} per ${this.budget.windowMs} ms reached for "${this.key}"; ` +
            `budget back in ${Math.ceil(decision.retryAfterMs)} ms`,
          { retryAfterMs: decision.retryAfterMs, isRetryable: true },
        );
      }
      await sleep(Math.max(1, Math.ceil(decision.retryAfterMs)), signal);
    }
  }

  /**
   * `acquire` without waiting, for a store that decides synchronously (the memory store): the
   * reservation when the budget is there now, else `undefined` (nothing taken; call `acquire`).
   */
  tryAcquireNow(tokens: number): Reservation | undefined {
    if (!(this.store instanceof MemoryTokenBudgetStore)) return undefined;
    const cost = this.cost(tokens);
    return this.store.acquireSync(this.key, this.budget, cost).allowed ? { tokens: cost } : undefined;
  }

  /** Replaces the reserved estimate by the real usage (or gives it all back when `used` is 0). */
  settle(reservation: Reservation, used: number | undefined, hooks: LimiterHooks): void {
    if (this.budget.tokens <= 0 || used === undefined) return;
    const delta = Math.ceil(used) - reservation.tokens;
    if (delta === 0) return;
    reservation.tokens += delta;
    if (this.store instanceof MemoryTokenBudgetStore) {
      this.store.adjustSync(this.key, this.budget, delta);
      return;
    }
    this.store.adjust(this.key, this.budget, delta).catch((error: unknown) => {
      hooks.storeError(error);
    });
  }

  private cost(tokens: number): number {
    return this.budget.tokens > 0 ? Math.min(Math.max(0, Math.ceil(tokens)), this.budget.tokens) : 0;
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.store.close?.();
  }
}
