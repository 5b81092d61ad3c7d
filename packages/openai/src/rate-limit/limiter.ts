import { sleep } from '@infra/core';
import { MemoryRateLimiterStore, type RateLimitRule, type RateLimiterStore } from '@infra/resilience';
import { OpenAIClientError, InvalidOptionError, check } from '../errors.js';

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
   * Where budgets live: a rate-limiter store of `@infra/resilience`, `MemoryRateLimiterStore`
   * (this process) or `RedisRateLimiterStore` from `@infra/resilience/redis` (shared by every
   * instance). A store you pass is not closed by the client.
   * @default a new MemoryRateLimiterStore
   */
  store?: RateLimiterStore;
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

/**
 * Client-side RPM/TPM limiter on a rate-limiter store of `@infra/resilience`: two token buckets
 * (GCRA, a burst of the whole limit refilled continuously over the window, which is how OpenAI
 * replenishes its own limits), one for requests and one for tokens. A call reserves an estimate
 * of its tokens before it is sent; the estimate is corrected from the response's `usage`.
 */
export class TokenBudgetLimiter {
  readonly key: string;
  readonly maxWaitMs: number;
  readonly defaultCompletionTokens: number;
  readonly store: RateLimiterStore;
  readonly ownsStore: boolean;
  /** The request bucket, or undefined when requests are not limited. */
  readonly requests: RateLimitRule | undefined;
  /** The token bucket, or undefined when tokens are not limited. */
  readonly tokens: RateLimitRule | undefined;
  private readonly onStoreError: 'allow' | 'throw';

  constructor(options: RateLimitOptions, defaultKey: string) {
    check.plainObject('rateLimit', options);
    const windowMs = check.positive('rateLimit.windowMs', options.windowMs ?? 60_000);
    const requests = check.integer('rateLimit.requestsPerMinute', options.requestsPerMinute ?? 0, 0);
    const tokens = check.integer('rateLimit.tokensPerMinute', options.tokensPerMinute ?? 0, 0);
    this.requests = requests > 0 ? { algorithm: 'token-bucket', limit: requests, windowMs } : undefined;
    this.tokens = tokens > 0 ? { algorithm: 'token-bucket', limit: tokens, windowMs } : undefined;
    this.key = check.nonEmptyString('rateLimit.key', options.key ?? defaultKey);
    this.maxWaitMs = check.nonNegative('rateLimit.maxWaitMs', options.maxWaitMs ?? 30_000);
    this.defaultCompletionTokens = check.integer(
      'rateLimit.defaultCompletionTokens',
      options.defaultCompletionTokens ?? 256,
      0,
    );
    const store = options.store;
    if (store !== undefined && (typeof store.consume !== 'function' || typeof store.reset !== 'function')) {
      throw new InvalidOptionError('rateLimit.store', store, 'a RateLimiterStore of @infra/resilience');
    }
    this.store = store ?? new MemoryRateLimiterStore();
    this.ownsStore = store === undefined;
    this.onStoreError = check.oneOf('rateLimit.onStoreError', options.onStoreError ?? 'allow', ['allow', 'throw']);
  }

  /** True when a limit is set at all. */
  get enabled(): boolean {
    return this.requests !== undefined || this.tokens !== undefined;
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
      let refusal: { scope: 'requests' | 'tokens'; retryAfterMs: number } | undefined;
      try {
        refusal = await this.take(cost);
      } catch (error) {
        hooks.storeError(error);
        if (this.onStoreError === 'allow') return { tokens: 0 };
        throw new OpenAIClientError('STORE_UNAVAILABLE', `Rate-limit store failed for budget "${this.key}"`, {
          cause: error,
          isRetryable: true,
        });
      }
      if (!refusal) return { tokens: cost };
      const { scope, retryAfterMs } = refusal;
      const waiting = Date.now() + retryAfterMs <= deadline;
      hooks.rateLimited({ scope, retryAfterMs, waiting });
      if (!waiting) {
        const rule = scope === 'requests' ? this.requests : this.tokens;
        throw new OpenAIClientError(
          'RATE_LIMITED',
          `Client-side ${scope} limit of ${rule?.limit ?? 0} per ${rule?.windowMs ?? 0} ms reached for ` +
            `"${this.key}"; budget back in ${Math.ceil(retryAfterMs)} ms`,
          { retryAfterMs, isRetryable: true },
        );
      }
      await sleep(Math.max(1, Math.ceil(retryAfterMs)), signal);
    }
  }

  /**
   * Replaces the reserved estimate by the real usage. Tokens the call did not use go back to the
   * bucket; usage above the estimate is charged when the bucket still holds it.
   */
  settle(reservation: Reservation, used: number | undefined, hooks: LimiterHooks): void {
    if (!this.tokens || used === undefined) return;
    const delta = Math.ceil(used) - reservation.tokens;
    if (delta === 0) return;
    reservation.tokens += delta;
    // A negative cost moves a token bucket's arrival time back: the refund never fills the bucket
    // past full, since the stores start from "now" for a bucket whose arrival time has passed.
    this.store.consume(this.tokensKey, this.tokens, Math.min(delta, this.tokens.limit)).catch((error: unknown) => {
      hooks.storeError(error);
    });
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.store.close?.();
  }

  private get requestsKey(): string {
    return `${this.key}:requests`;
  }

  private get tokensKey(): string {
    return `${this.key}:tokens`;
  }

  /** One request and `cost` tokens, or nothing: a request refused for its tokens is given back. */
  private async take(cost: number): Promise<{ scope: 'requests' | 'tokens'; retryAfterMs: number } | undefined> {
    if (this.requests) {
      const decision = await this.store.consume(this.requestsKey, this.requests, 1);
      if (!decision.allowed) return { scope: 'requests', retryAfterMs: decision.retryAfterMs };
    }
    if (this.tokens && cost > 0) {
      const decision = await this.store.consume(this.tokensKey, this.tokens, cost);
      if (!decision.allowed) {
        if (this.requests) await this.store.consume(this.requestsKey, this.requests, -1);
        return { scope: 'tokens', retryAfterMs: decision.retryAfterMs };
      }
    }
    return undefined;
  }

  private cost(tokens: number): number {
    return this.tokens ? Math.min(Math.max(0, Math.ceil(tokens)), this.tokens.limit) : 0;
  }
}
