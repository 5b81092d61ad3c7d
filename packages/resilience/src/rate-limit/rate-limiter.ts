import { InvalidOptionError, RateLimitedError, ResilienceError, check } from '../errors.js';
import { EventHub, addSpanEvent } from '@infra/core';
import { CircuitBreaker } from '../circuit-breaker.js';
import { MemoryRateLimiterStore } from './memory-store.js';
import type { RateLimitAlgorithm, RateLimitDecision, RateLimitRule, RateLimiterStore } from './types.js';

/**
 * What a limiter answers while its store is unreachable (down, stalled past `storeTimeoutMs`, or
 * skipped for `storeRetryMs` after a failure):
 * - `throw`: `consume()` and `limit()` reject with `STORE_UNAVAILABLE`;
 * - `fail-open`: the request is admitted;
 * - `fail-closed`: the request is refused, as if rate-limited (`limit()` throws `RATE_LIMITED`);
 * - `fallback`: a memory limiter in this process decides, with the same rule.
 */
export type StoreErrorAction = 'throw' | 'fail-open' | 'fail-closed' | 'fallback';

export interface RateLimiterOptions {
  /** Units admitted per window. */
  limit: number;
  /** Window length in ms (token-bucket: time to refill the whole bucket). */
  windowMs: number;
  /**
   * `fixed-window`: a counter per calendar window (cheapest, allows bursts at window edges);
   * `sliding-window`: weighted current + previous window (smooth, two counters);
   * `token-bucket`: GCRA with a burst of `limit` (one timestamp per key).
   * @default 'sliding-window'
   */
  algorithm?: RateLimitAlgorithm;
  /** Where state lives. Not closed by the limiter when given. @default a new MemoryRateLimiterStore */
  store?: RateLimiterStore;
  /** Prefix of this limiter's keys, so limiters can share a store. @default 'default' */
  name?: string;
  /**
   * What to answer while the store is unreachable; see {@link StoreErrorAction}. `'allow'` and
   * `'deny'` are accepted as older names of `'fail-open'` and `'fail-closed'`.
   * @default 'throw'
   */
  onStoreError?: StoreErrorAction | 'allow' | 'deny';
  /**
   * Longest wait for the store's answer (ms); a store still silent then counts as unreachable, so
   * every call answers within about this bound whatever happens to the store.
   * @default 250
   */
  storeTimeoutMs?: number;
  /**
   * After a store failure, how long the limiter answers by `onStoreError` without asking the store
   * (ms). Then one call tries the store again; its success ends the outage.
   * @default 1000
   */
  storeRetryMs?: number;
}

/** Options of {@link RateLimiter.close}. */
export interface RateLimiterCloseOptions {
  /** Longest wait for a store the limiter created to close (ms). @default 10_000 */
  timeoutMs?: number;
}

export interface RateLimiterEvents {
  allowed: { key: string; decision: RateLimitDecision };
  limited: { key: string; decision: RateLimitDecision };
  /**
   * The store did not answer one call. `error` is a `STORE_UNAVAILABLE` error whose `cause` is the
   * store's own error (or `TIMEOUT`, or `CIRCUIT_OPEN` while the store is skipped); `action` is
   * what the limiter answered instead.
   */
  storeError: { key: string; error: ResilienceError; action: StoreErrorAction };
  /** The store answered again after an outage. */
  storeRecovered: { name: string };
}

const ACTIONS = ['throw', 'fail-open', 'fail-closed', 'fallback', 'allow', 'deny'] as const;

/** Admits at most `limit` units per `windowMs` for each key. */
export class RateLimiter {
  readonly rule: RateLimitRule;
  readonly name: string;
  /** What the limiter answers while its store is unreachable. */
  readonly onStoreError: StoreErrorAction;
  readonly storeTimeoutMs: number;
  readonly storeRetryMs: number;
  private readonly store: RateLimiterStore;
  private readonly ownsStore: boolean;
  /**
   * Bounds each store call and skips the store for `storeRetryMs` after a failure; none for the
   * limiter's own memory store, which cannot be unreachable.
   */
  private readonly guard: CircuitBreaker | undefined;
  private fallback: MemoryRateLimiterStore | undefined;
  private readonly events = new EventHub<RateLimiterEvents>();
  private closing: Promise<void> | undefined;

  constructor(options: RateLimiterOptions) {
    this.rule = {
      algorithm: check.oneOf('algorithm', options.algorithm ?? 'sliding-window', [
        'fixed-window',
        'sliding-window',
        'token-bucket',
      ]),
      limit: check.integer('limit', options.limit),
      windowMs: check.positive('windowMs', options.windowMs),
    };
    this.name = check.nonEmptyString('name', options.name ?? 'default');
    if (options.store !== undefined && typeof (options.store as Partial<RateLimiterStore>).consume !== 'function') {
      throw new InvalidOptionError('store', options.store, 'a RateLimiterStore (with consume and reset)');
    }
    this.ownsStore = options.store === undefined;
    this.store = options.store ?? new MemoryRateLimiterStore();
    const action = check.oneOf('onStoreError', options.onStoreError ?? 'throw', ACTIONS);
    this.onStoreError = action === 'allow' ? 'fail-open' : action === 'deny' ? 'fail-closed' : action;
    this.storeTimeoutMs = check.positive('storeTimeoutMs', options.storeTimeoutMs ?? 250);
    this.storeRetryMs = check.nonNegative('storeRetryMs', options.storeRetryMs ?? 1000);
    if (this.ownsStore) return;
    this.guard = new CircuitBreaker(`rate-limiter-store:${this.name}`, {
      consecutiveFailures: 1,
      timeoutMs: this.storeTimeoutMs,
      resetTimeoutMs: this.storeRetryMs,
    });
    this.guard.on('stateChange', ({ from, to }) => {
      if (to === 'closed' && from === 'half-open' && this.events.has('storeRecovered')) {
        this.events.emit('storeRecovered', { name: this.name });
      }
    });
  }

  on<K extends keyof RateLimiterEvents>(event: K, listener: (payload: RateLimiterEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Counts `cost` units against `key` if the limit allows, and says whether it did. */
  async consume(key: string, cost = 1): Promise<RateLimitDecision> {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidOptionError('key', key, 'a non-empty string');
    if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 1 || cost > this.rule.limit) {
      throw new InvalidOptionError('cost', cost, `an integer in [1, limit=${this.rule.limit}]`);
    }
    if (this.closing) throw new ResilienceError('STORE_UNAVAILABLE', `Rate limiter "${this.name}" is closed`);
    const storeKey = `${this.name}:${key}`;
    let decision: RateLimitDecision;
    try {
      const { guard, store, rule } = this;
      decision = await (guard
        ? guard.execute(() => store.consume(storeKey, rule, cost))
        : store.consume(storeKey, rule, cost));
    } catch (cause) {
      decision = await this.withoutStore(key, storeKey, cost, cause);
    }
    const event = decision.allowed ? 'allowed' : 'limited';
    if (this.events.has(event)) this.events.emit(event, { key, decision });
    // The key (often a user or an address) stays out of the trace.
    if (!decision.allowed) {
      addSpanEvent('rate_limit.refused', {
        'rate_limit.name': this.name,
        'rate_limit.limit': decision.limit,
        'rate_limit.retry_after_ms': decision.retryAfterMs,
      });
    }
    return decision;
  }

  /** Like `consume`, but throws `RATE_LIMITED` (with `retryAfterMs`) when the request is refused. */
  async limit(key: string, cost = 1): Promise<RateLimitDecision> {
    const decision = await this.consume(key, cost);
    if (!decision.allowed) throw new RateLimitedError(key, this.rule.limit, decision.retryAfterMs);
    return decision;
  }

  /** Forgets the state of `key` (in the store, and in the fallback limiter if one was used). */
  async reset(key: string): Promise<void> {
    const storeKey = `${this.name}:${key}`;
    await this.fallback?.reset(storeKey);
    await this.store.reset(storeKey);
  }

  /**
   * Refuses further calls with `STORE_UNAVAILABLE` and closes what the limiter created (its
   * default memory store, its fallback limiter). A store passed as `store` is the caller's to
   * close. Idempotent.
   */
  close(options: RateLimiterCloseOptions = {}): Promise<void> {
    check.nonNegative('timeoutMs', options.timeoutMs ?? 10_000);
    this.closing ??= (async () => {
      await this.fallback?.close();
      if (this.ownsStore) await this.store.close?.();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The answer of `onStoreError` for a call the store did not answer. */
  private async withoutStore(key: string, storeKey: string, cost: number, cause: unknown): Promise<RateLimitDecision> {
    const error = new ResilienceError('STORE_UNAVAILABLE', `Rate limiter store did not answer for "${key}"`, {
      cause,
      isRetryable: true,
    });
    const action = this.onStoreError;
    if (this.events.has('storeError')) this.events.emit('storeError', { key, error, action });
    const { limit, windowMs } = this.rule;
    switch (action) {
      case 'throw':
        throw error;
      case 'fail-open':
        return { allowed: true, limit, remaining: limit - cost, retryAfterMs: 0, resetMs: 0 };
      case 'fail-closed':
        return { allowed: false, limit, remaining: 0, retryAfterMs: Math.max(1, this.storeRetryMs), resetMs: windowMs };
      case 'fallback':
        this.fallback ??= new MemoryRateLimiterStore();
        return this.fallback.consume(storeKey, this.rule, cost);
    }
  }
}
