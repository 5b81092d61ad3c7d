import { describe, expect, it } from 'vitest';
import {
  MemoryRateLimiterStore,
  RateLimiter,
  isResilienceError,
  type RateLimitDecision,
  type RateLimiterStore,
  type RateLimitRule,
} from '../index.js';

/** A store that stops answering while `silent` is set, and otherwise defers to a memory store. */
class SilentStore implements RateLimiterStore {
  silent = false;
  calls = 0;
  private readonly inner = new MemoryRateLimiterStore();

  consume(key: string, rule: RateLimitRule, cost: number): Promise<RateLimitDecision> {
    this.calls++;
    return this.silent ? new Promise(() => undefined) : this.inner.consume(key, rule, cost);
  }

  reset(key: string): Promise<void> {
    return this.inner.reset(key);
  }
}

describe('RateLimiter when its store does not answer', () => {
  it(
    'answers within storeTimeoutMs, skips the store for storeRetryMs, and reports both ends',
    { timeout: 30_000 },
    async () => {
      const store = new SilentStore();
      const limiter = new RateLimiter({
        limit: 10,
        windowMs: 60_000,
        store,
        onStoreError: 'fail-closed',
        storeTimeoutMs: 50,
        // Long enough that the second call surely finds the store still skipped, on a busy machine too.
        storeRetryMs: 1000,
      });
      const seen: string[] = [];
      limiter.on('storeError', ({ error, action }) => {
        expect(isResilienceError(error, 'STORE_UNAVAILABLE')).toBe(true);
        seen.push(`error:${action}:${(error.cause as { code?: string }).code ?? '?'}`);
      });
      limiter.on('storeRecovered', () => seen.push('recovered'));
      store.silent = true;
      const refused = await limiter.consume('k');
      expect(refused).toMatchObject({ allowed: false, retryAfterMs: 1000 });
      await expect(limiter.limit('k')).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
      expect(store.calls).toBe(1); // the second call did not wait for the store
      expect(seen).toEqual(['error:fail-closed:TIMEOUT', 'error:fail-closed:CIRCUIT_OPEN']);
      store.silent = false;
      await expect.poll(async () => (await limiter.consume('k')).allowed, { timeout: 20_000, interval: 50 }).toBe(true);
      expect(seen.at(-1)).toBe('recovered');
    },
  );

  it('accepts allow and deny as older names of fail-open and fail-closed', () => {
    expect(new RateLimiter({ limit: 1, windowMs: 1, onStoreError: 'allow' }).onStoreError).toBe('fail-open');
    expect(new RateLimiter({ limit: 1, windowMs: 1, onStoreError: 'deny' }).onStoreError).toBe('fail-closed');
    expect(new RateLimiter({ limit: 1, windowMs: 1 }).onStoreError).toBe('throw');
  });

  it('rejects bad store options with INVALID_OPTION naming the value', () => {
    expect(() => new RateLimiter({ limit: 1, windowMs: 1, onStoreError: 'ignore' as never })).toThrow(
      /onStoreError.*ignore/,
    );
    expect(() => new RateLimiter({ limit: 1, windowMs: 1, storeTimeoutMs: 0 })).toThrow(/storeTimeoutMs.*0/);
    expect(() => new RateLimiter({ limit: 1, windowMs: 1, storeRetryMs: -1 })).toThrow(/storeRetryMs.*-1/);
    expect(() => new RateLimiter({ limit: 1, windowMs: 1, store: {} as never })).toThrow(/store/);
  });

  it('refuses calls after close, and closes only the store it created', async () => {
    const store = new SilentStore();
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000, store });
    await limiter.close();
    await expect(limiter.consume('k')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(store.calls).toBe(0);
    await using owning = new RateLimiter({ limit: 1, windowMs: 1000 });
    expect((await owning.consume('k')).allowed).toBe(true);
  });
});
