import { abortError, InvalidOptionError, check } from './errors.js';
import { sleep } from '@infra/core';
import { neverAborted } from './policy.js';

export interface TokenBucketOptions {
  /** Most tokens the bucket holds (the burst size). */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
  /** Tokens at start. @default capacity */
  initialTokens?: number;
  /** Clock in milliseconds, for tests. @default performance.now */
  now?: () => number;
}

/**
 * Classic token bucket with lazy refill: no timer, state is two numbers.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private tokens: number;
  private updatedAt: number;
  private readonly now: () => number;

  constructor(options: TokenBucketOptions) {
    this.capacity = check.positive('capacity', options.capacity);
    this.refillPerSecond = check.positive('refillPerSecond', options.refillPerSecond);
    this.now = check.optionalFn<() => number>('now', options.now) ?? (() => performance.now());
    const initial = options.initialTokens ?? this.capacity;
    if (typeof initial !== 'number' || !(initial >= 0 && initial <= this.capacity)) {
      throw new InvalidOptionError('initialTokens', initial, `a number in [0, capacity=${this.capacity}]`);
    }
    this.tokens = initial;
    this.updatedAt = this.now();
  }

  /** Tokens available now (fractional). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `count` tokens if there are enough; never waits. */
  tryRemove(count = 1): boolean {
    this.check(count);
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Milliseconds until `count` tokens are available (0 when they are). */
  timeUntilAvailable(count = 1): number {
    this.check(count);
    this.refill();
    return count <= this.tokens ? 0 : ((count - this.tokens) / this.refillPerSecond) * 1000;
  }

  /** Waits until `count` tokens are available, then takes them. */
  async take(count = 1, signal: AbortSignal = neverAborted): Promise<void> {
    for (;;) {
      if (signal.aborted) throw abortError(signal);
      if (this.tryRemove(count)) return;
      await sleep(Math.max(1, Math.ceil(this.timeUntilAvailable(count))), signal);
    }
  }

  private check(count: number): void {
    if (typeof count !== 'number' || !(count > 0) || count > this.capacity) {
      throw new InvalidOptionError('count', count, `a number in (0, capacity=${this.capacity}]`);
    }
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 1000) * this.refillPerSecond);
      this.updatedAt = now;
    }
  }
}
