import { describe, expect, it } from 'vitest';
import { MemoryRateLimiterStore, RateLimiter } from '../index.js';

function limiterAt(algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket', limit: number, windowMs: number) {
  const clock = { now: 1_000_000 };
  const store = new MemoryRateLimiterStore({ now: () => clock.now });
  return { clock, limiter: new RateLimiter({ algorithm, limit, windowMs, store }) };
}

describe('RateLimiter algorithms (memory, injected clock)', () => {
  it('fixed window resets at the window boundary', async () => {
    const { clock, limiter } = limiterAt('fixed-window', 2, 1000);
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect((await limiter.consume('k')).allowed).toBe(true);
    const refused = await limiter.consume('k');
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 1000, remaining: 0 });
    clock.now += 1000;
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('sliding window weighs the previous window', async () => {
    const { clock, limiter } = limiterAt('sliding-window', 10, 1000);
    for (let i = 0; i < 10; i++) await limiter.consume('k');
    clock.now += 1000; // start of next window: previous counts fully
    expect((await limiter.consume('k')).allowed).toBe(false);
    clock.now += 500; // half of the previous window still counts: 5 used
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push((await limiter.consume('k')).allowed);
    expect(decisions).toEqual([true, true, true, true, true, false]);
  });

  it('sliding window tells how long until a refused request fits', async () => {
    const { clock, limiter } = limiterAt('sliding-window', 10, 1000);
    for (let i = 0; i < 10; i++) await limiter.consume('k');
    clock.now += 1000;
    const refused = await limiter.consume('k');
    expect(refused.retryAfterMs).toBeCloseTo(100);
    clock.now += refused.retryAfterMs;
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('token bucket refills one token per windowMs/limit after a burst', async () => {
    const { clock, limiter } = limiterAt('token-bucket', 4, 1000);
    for (let i = 0; i < 4; i++) expect((await limiter.consume('k')).allowed).toBe(true);
    const refused = await limiter.consume('k');
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 250 });
    clock.now += 250;
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect((await limiter.consume('k')).allowed).toBe(false);
  });

  it('limit() throws RATE_LIMITED with the wait; events report both outcomes', async () => {
    const { limiter } = limiterAt('fixed-window', 1, 1000);
    const seen: string[] = [];
    limiter.on('allowed', ({ key }) => seen.push(`allowed:${key}`));
    limiter.on('limited', ({ key }) => seen.push(`limited:${key}`));
    await limiter.limit('user-1');
    await expect(limiter.limit('user-1')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      key: 'user-1',
      retryAfterMs: 1000,
    });
    expect(seen).toEqual(['allowed:user-1', 'limited:user-1']);
  });

  it('sweeps expired keys so memory follows active keys', async () => {
    const clock = { now: 0 };
    const store = new MemoryRateLimiterStore({ now: () => clock.now });
    const limiter = new RateLimiter({ algorithm: 'fixed-window', limit: 1, windowMs: 1000, store });
    for (let i = 0; i < 2000; i++) await limiter.consume(`k${i}`);
    clock.now += 5000;
    for (let i = 0; i < 1100; i++) await limiter.consume(`n${i}`);
    expect(store.size).toBeLessThan(1200);
  });

  it('rejects bad keys, costs and options', async () => {
    const limiter = new RateLimiter({ limit: 5, windowMs: 1000 });
    await expect(limiter.consume('')).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'key' });
    await expect(limiter.consume('k', 6)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'cost' });
    await expect(limiter.consume('k', 0.5)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'cost' });
    expect(() => new RateLimiter({ limit: 0, windowMs: 1000 })).toThrow(/limit/);
    expect(() => new RateLimiter({ limit: 1, windowMs: -1 })).toThrow(/windowMs/);
    expect(() => new RateLimiter({ limit: 1, windowMs: 1, algorithm: 'leaky' as never })).toThrow(/algorithm/);
  });
});
