import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError, isResilienceError, retry, retryAfterMs } from './index.js';

describe('retry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries until success and passes the attempt number', async () => {
    const policy = retry({ maxAttempts: 5, initialDelayMs: 10, jitter: 'none' });
    const attempts: number[] = [];
    const call = policy.execute(({ attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Error(`fail ${attempt}`);
      return 'done';
    });
    await vi.runAllTimersAsync();
    await expect(call).resolves.toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('waits exponentially without jitter and gives up after maxAttempts with the last error', async () => {
    const policy = retry({ maxAttempts: 4, initialDelayMs: 100, factor: 2, jitter: 'none' });
    const retries: number[] = [];
    const gaveUp = vi.fn();
    policy.onRetry(({ delayMs }) => retries.push(delayMs));
    policy.onGiveUp(gaveUp);
    const times: number[] = [];
    const call = policy
      .execute(() => {
        times.push(Date.now());
        throw new Error(`at ${Date.now()}`);
      })
      .catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(((await call) as Error).message).toBe('at 700');
    expect(times).toEqual([0, 100, 300, 700]);
    expect(retries).toEqual([100, 200, 400]);
    expect(gaveUp).toHaveBeenCalledWith(expect.objectContaining({ attempts: 4 }));
  });

  it('caps delays at maxDelayMs and keeps full jitter within [0, delay]', () => {
    const low = retry({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 'full', random: () => 0.999 });
    expect(low.backoff(1)).toBeCloseTo(99.9);
    expect(low.backoff(10)).toBeCloseTo(999);
    const none = retry({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 'none' });
    expect(none.backoff(20)).toBe(1000);
  });

  it('keeps decorrelated jitter between initialDelay and 3x the previous delay', () => {
    const policy = retry({ initialDelayMs: 100, maxDelayMs: 10_000, jitter: 'decorrelated', random: () => 1 });
    expect(policy.backoff(1, 100)).toBe(300);
    expect(policy.backoff(2, 300)).toBe(900);
    expect(policy.backoff(3, 9000)).toBe(10_000);
    const min = retry({ initialDelayMs: 100, jitter: 'decorrelated', random: () => 0 });
    expect(min.backoff(5, 5000)).toBe(100);
  });

  it('honours Retry-After and retryAfterMs instead of the backoff', async () => {
    const policy = retry({ maxAttempts: 3, initialDelayMs: 1, jitter: 'none' });
    const times: number[] = [];
    const call = policy.execute(({ attempt }) => {
      times.push(Date.now());
      if (attempt === 1) throw Object.assign(new Error('429'), { headers: { 'retry-after': '2' } });
      if (attempt === 2) throw Object.assign(new Error('503'), { retryAfterMs: 500 });
      return 'ok';
    });
    await vi.runAllTimersAsync();
    await expect(call).resolves.toBe('ok');
    expect(times).toEqual([0, 2000, 2500]);
  });

  it('does not retry what shouldRetry refuses, nor breaker refusals, nor non-retryable errors', async () => {
    const fn = vi.fn(() => Promise.reject(new Error('x')));
    await expect(retry({ shouldRetry: () => false }).execute(fn)).rejects.toThrow('x');
    expect(fn).toHaveBeenCalledTimes(1);
    const open = vi.fn(() => Promise.reject(new CircuitOpenError('svc', 10)));
    await expect(retry().execute(open)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(open).toHaveBeenCalledTimes(1);
    const fatal = vi.fn(() => Promise.reject(Object.assign(new Error('401'), { isRetryable: false })));
    await expect(retry().execute(fatal)).rejects.toThrow('401');
    expect(fatal).toHaveBeenCalledTimes(1);
  });

  it('gives up rather than wait past maxElapsedMs', async () => {
    const policy = retry({ maxAttempts: 10, initialDelayMs: 400, jitter: 'none', maxElapsedMs: 1000 });
    const fn = vi.fn(() => Promise.reject(new Error('x')));
    const call = policy.execute(fn).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    await call;
    expect(fn).toHaveBeenCalledTimes(2); // 0 + 400; the next wait (800) would end past 1000
  });

  it('stops waiting when aborted, clearing its timer', async () => {
    const policy = retry({ maxAttempts: 5, initialDelayMs: 10_000, jitter: 'none' });
    const controller = new AbortController();
    const fn = vi.fn(() => Promise.reject(new Error('x')));
    const call = policy.execute(fn, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    controller.abort(new Error('shutdown'));
    const error = await call;
    expect(isResilienceError(error, 'ABORTED')).toBe(true);
    expect((error as Error).cause).toEqual(new Error('shutdown'));
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    ['maxAttempts', { maxAttempts: 0 }],
    ['initialDelayMs', { initialDelayMs: -1 }],
    ['maxDelayMs', { maxDelayMs: Number.NaN }],
    ['jitter', { jitter: 'random' }],
    ['factor', { factor: 0 }],
  ])('rejects a bad %s', (option, options) => {
    expect(() => retry(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option }));
  });
});

describe('retryAfterMs', () => {
  it('reads retryAfterMs, retry-after-ms, retry-after seconds and dates, plain and Headers', () => {
    expect(retryAfterMs({ retryAfterMs: 250 })).toBe(250);
    expect(retryAfterMs({ headers: { 'Retry-After-Ms': '120.5' } })).toBe(120.5);
    expect(retryAfterMs({ headers: new Headers({ 'retry-after': '3' }) })).toBe(3000);
    expect(retryAfterMs({ response: { headers: { 'retry-after': new Date(10_000).toUTCString() } } }, 4000)).toBe(6000);
    expect(retryAfterMs({ headers: { 'retry-after': 'soon' } })).toBeUndefined();
    expect(retryAfterMs(new Error('plain'))).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
