import { InvalidOptionError, RateLimitedError, ResilienceError, check } from '../errors.js';
import { EventHub } from '@infra/core';
import { MemoryRateLimiterStore } from './memory-store.js';
import type { RateLimitAlgorithm, RateLimitDecision, RateLimitRule, RateLimiterStore } from './types.js';

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
  /** Where state lives. @default a new MemoryRateLimiterStore */
  store?: RateLimiterStore;
  /** Prefix of this limiter's keys, so limiters can share a store. @default 'default' */
  name?: string;
  /**
   * What to do when the store fails (e.g. Redis is down): `throw` a `STORE_UNAVAILABLE` error,
   * `allow` the request (fail open) or `deny` it (fail closed). @default 'throw'
   */
  onStoreError?: 'throw' | 'allow' | 'deny';
}

export interface RateLimiterEvents {
  allowed: { key: string; decision: RateLimitDecision };
  limited: { key: string; decision: RateLimitDecision };
  storeError: { key: string; error: unknown };
}

/** Admits at most `limit` units per `windowMs` for each key. */
export class RateLimiter {
  readonly rule: RateLimitRule;
  readonly name: string;
  private readonly store: RateLimiterStore;
  private readonly onStoreError: 'throw' | 'allow' | 'deny';
  private readonly events = new EventHub<RateLimiterEvents>();

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
    this.store = options.store ?? new MemoryRateLimiterStore();
    this.onStoreError = check.oneOf('onStoreError', options.onStoreError ?? 'throw', ['throw', 'allow', 'deny']);
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
    let decision: RateLimitDecision;
    try {
      decision = await this.store.consume(`${this.name}:${key}`, this.rule, cost);
    } catch (error) {
      if (this.events.has('storeError')) this.events.emit('storeError', { key, error });
      if (this.onStoreError === 'throw') {
        throw new ResilienceError('STORE_UNAVAILABLE', `Rate limiter store failed for "${key}"`, {
          cause: error,
          isRetryable: true,
        });
      }
      const allowed = this.onStoreError === 'allow';
      decision = {
        allowed,
        limit: this.rule.limit,
        remaining: 0,
        retryAfterMs: allowed ? 0 : this.rule.windowMs,
        resetMs: this.rule.windowMs,
      };
    }
    const event = decision.allowed ? 'allowed' : 'limited';
    if (this.events.has(event)) this.events.emit(event, { key, decision });
    return decision;
  }

  /** Like `consume`, but throws `RATE_LIMITED` (with `retryAfterMs`) when the request is refused. */
  async limit(key: string, cost = 1): Promise<RateLimitDecision> {
    const decision = await this.consume(key, cost);
    if (!decision.allowed) throw new RateLimitedError(key, this.rule.limit, decision.retryAfterMs);
    return decision;
  }

  /** Forgets the state of `key`. */
  reset(key: string): Promise<void> {
    return this.store.reset(`${this.name}:${key}`);
  }
}
