import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, isResilienceError, type CircuitState } from './index.js';

const fail = (): Promise<never> => Promise.reject(new Error('boom'));
const ok = (): Promise<string> => Promise.resolve('ok');

async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await breaker.execute(fail).catch(() => undefined);
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CircuitBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the documented usage as written', async () => {
    const paymentServiceBreaker = new CircuitBreaker('payment-service', {
      failureThreshold: 0.5,
      resetTimeout: 30000,
      timeout: 5000,
    });
    const processPayment = (paymentData: { amount: number }) =>
      paymentServiceBreaker.execute(async () => ({ charged: paymentData.amount }));
    await expect(processPayment({ amount: 10 })).resolves.toEqual({ charged: 10 });
    expect(paymentServiceBreaker.state).toBe('closed');
  });

  it('opens at the failure rate once the minimum throughput is reached, not before', async () => {
    const breaker = new CircuitBreaker('svc', {
      failureThreshold: 0.5,
      minimumThroughput: 4,
      slidingWindow: { kind: 'count', size: 10 },
    });
    await breaker.execute(ok);
    await failTimes(breaker, 2); // 2 of 3 failed, but only 3 calls
    expect(breaker.state).toBe('closed');
    await breaker.execute(ok); // 2 of 4 = 50 %
    expect(breaker.state).toBe('closed'); // the rate is only checked when a failure is recorded
    await failTimes(breaker, 1); // 3 of 5
    expect(breaker.state).toBe('open');
  });

  it('stays closed below the threshold', async () => {
    const breaker = new CircuitBreaker('svc', {
      failureThreshold: 0.5,
      minimumThroughput: 4,
      slidingWindow: { kind: 'count', size: 10 },
    });
    for (let i = 0; i < 20; i++) {
      await breaker.execute(ok);
      await breaker.execute(ok);
      await failTimes(breaker, 1);
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().window).toMatchObject({ total: 10 });
  });

  it('forgets failures that slid out of a count window', async () => {
    const breaker = new CircuitBreaker('svc', {
      failureThreshold: 0.5,
      minimumThroughput: 4,
      slidingWindow: { kind: 'count', size: 4 },
    });
    await failTimes(breaker, 1);
    for (let i = 0; i < 4; i++) await breaker.execute(ok);
    expect(breaker.stats().window).toMatchObject({ total: 4, failures: 0 });
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('closed');
  });

  it('forgets failures older than a time window', async () => {
    const breaker = new CircuitBreaker('svc', {
      minimumThroughput: 3,
      slidingWindow: { kind: 'time', durationMs: 1000, buckets: 10 },
    });
    await failTimes(breaker, 2);
    vi.advanceTimersByTime(1100);
    expect(breaker.stats().window.total).toBe(0);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('opens after consecutive failures whatever the rate', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 3, minimumThroughput: 1000 });
    await failTimes(breaker, 2);
    await breaker.execute(ok);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('rejects while open with CIRCUIT_OPEN and the time until the next probe', async () => {
    const breaker = new CircuitBreaker('payments', { consecutiveFailures: 1, resetTimeout: 30_000 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(10_000);
    const fn = vi.fn(ok);
    const error: unknown = await breaker.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(isResilienceError(error, 'CIRCUIT_OPEN')).toBe(true);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', breaker: 'payments', retryAfterMs: 20_000 });
    expect(breaker.stats().totals.rejections).toBe(1);
  });

  it('half-opens after resetTimeout; a successful probe closes it', async () => {
    const changes: [CircuitState, CircuitState][] = [];
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1, resetTimeout: 5000 });
    breaker.on('stateChange', ({ from, to }) => changes.push([from, to]));
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(4999);
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ]);
  });

  it('a failed probe re-opens it for another resetTimeout', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1, resetTimeout: 5000 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(5000);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.stats().nextAttemptAt).toBe(Date.now() + 5000);
  });

  it('admits exactly halfOpenMaxProbes concurrent probes and rejects the racing rest', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1, resetTimeout: 1000, halfOpenMaxProbes: 2 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(1000);
    const gates = [deferred<string>(), deferred<string>()];
    let started = 0;
    const calls = Array.from({ length: 50 }, () =>
      breaker
        .execute(() => gates[started++]?.promise ?? Promise.resolve('unexpected'))
        .then(
          (v): { ok: boolean; v?: string; code?: string } => ({ ok: true, v }),
          (e: unknown) => ({ ok: false, code: (e as { code?: string }).code }),
        ),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toBe(2);
    gates[0]?.resolve('a');
    gates[1]?.resolve('b');
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok && r.code === 'CIRCUIT_OPEN')).toHaveLength(48);
    expect(breaker.state).toBe('closed');
  });

  it('one failing probe among several re-opens the breaker', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1, resetTimeout: 1000, halfOpenMaxProbes: 3 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(1000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('half-open');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('ignores late results of calls that started before the state changed', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1, resetTimeout: 1000 });
    const slow = deferred<string>();
    const late = breaker.execute(() => slow.promise);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    slow.resolve('late');
    await expect(late).resolves.toBe('late');
    expect(breaker.state).toBe('open');
  });

  it('times out a call, aborts its signal and counts a failure', async () => {
    const breaker = new CircuitBreaker('svc', { timeout: 100, consecutiveFailures: 1 });
    let seen: AbortSignal | undefined;
    const call = breaker.execute(({ signal }) => {
      seen = signal;
      return new Promise<string>(() => undefined);
    });
    const outcome = call.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    const error = await outcome;
    expect(error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 100 });
    expect(seen?.aborted).toBe(true);
    expect(breaker.state).toBe('open');
    expect(breaker.stats().totals).toMatchObject({ timeouts: 1, failures: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts a timed-out call once, even when the function settles after its deadline', async () => {
    const breaker = new CircuitBreaker('svc', { timeout: 100, minimumThroughput: 1000 });
    const events: string[] = [];
    breaker.on('success', () => events.push('success'));
    breaker.on('failure', () => events.push('failure'));
    let finishLate!: (value: string) => void;
    let failLate!: (error: Error) => void;
    const late = breaker
      .execute(() => new Promise<string>((resolve) => (finishLate = resolve)))
      .catch((e: unknown) => e);
    const lateFailure = breaker
      .execute(() => new Promise<string>((_, reject) => (failLate = reject)))
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    finishLate('too late');
    failLate(new Error('also too late'));
    expect(await late).toMatchObject({ code: 'TIMEOUT' });
    expect(await lateFailure).toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(10);
    expect(events).toEqual(['failure', 'failure']);
    expect(breaker.stats().totals).toMatchObject({ timeouts: 2, failures: 2, successes: 0 });
    expect(breaker.stats().window).toMatchObject({ total: 2, failures: 2 });
  });

  it('times out each of many concurrent calls at its own deadline with one timer', async () => {
    const breaker = new CircuitBreaker('svc', { timeout: 100, minimumThroughput: 1000 });
    const outcomes: [number, string][] = [];
    const start = Date.now();
    for (let i = 0; i < 5; i++) {
      void breaker
        .execute(() => new Promise<never>(() => undefined))
        .catch((e: unknown) => outcomes.push([Date.now() - start, (e as { code: string }).code]));
      await vi.advanceTimersByTimeAsync(30);
      expect(vi.getTimerCount()).toBe(1);
    }
    await vi.advanceTimersByTimeAsync(200);
    expect(outcomes).toEqual([
      [100, 'TIMEOUT'],
      [130, 'TIMEOUT'],
      [160, 'TIMEOUT'],
      [190, 'TIMEOUT'],
      [220, 'TIMEOUT'],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer running once calls have settled and the last deadline passed', async () => {
    const breaker = new CircuitBreaker('svc', { timeout: 5000 });
    await breaker.execute(ok);
    await breaker.execute(fail).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(5000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes the caller abort to the function without counting it as a failure', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1 });
    const controller = new AbortController();
    const call = breaker.execute(
      ({ signal }) =>
        new Promise<string>((_, reject) => {
          signal.addEventListener('abort', () => {
            reject(new Error('aborted by caller'));
          });
        }),
      { signal: controller.signal },
    );
    controller.abort();
    await expect(call).rejects.toThrow('aborted by caller');
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(ok, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('an aborted half-open probe frees its slot', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1, resetTimeout: 1000 });
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(1000);
    const controller = new AbortController();
    const probe = breaker.execute(
      ({ signal }) =>
        new Promise<string>((_, reject) => {
          signal.addEventListener('abort', () => {
            reject(new Error('gone'));
          });
        }),
      { signal: controller.signal },
    );
    controller.abort();
    await expect(probe).rejects.toThrow('gone');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('does not count errors that isFailure rejects', async () => {
    const notFound = Object.assign(new Error('404'), { status: 404 });
    const breaker = new CircuitBreaker('svc', {
      consecutiveFailures: 2,
      isFailure: (e) => (e as { status?: number }).status !== 404,
    });
    for (let i = 0; i < 5; i++) await breaker.execute(() => Promise.reject(notFound)).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().totals).toMatchObject({ failures: 0, successes: 5 });
  });

  it('opens on the slow-call rate', async () => {
    const breaker = new CircuitBreaker('svc', {
      slowCallDurationMs: 100,
      slowCallRateThreshold: 0.5,
      minimumThroughput: 2,
      slidingWindow: { kind: 'count', size: 10 },
    });
    const slowCall = () => breaker.execute(() => new Promise((resolve) => setTimeout(resolve, 150)));
    const first = slowCall();
    await vi.advanceTimersByTimeAsync(150);
    await first;
    expect(breaker.state).toBe('closed');
    const second = slowCall();
    await vi.advanceTimersByTimeAsync(150);
    await second;
    expect(breaker.state).toBe('open');
  });

  it('returns the fallback on rejection, timeout and failure, but not for non-failures', async () => {
    const breaker = new CircuitBreaker('svc', {
      consecutiveFailures: 2,
      isFailure: (e) => (e as Error).message !== 'bad input',
    });
    const fallback = (error: unknown) => `fallback:${(error as { code?: string }).code ?? 'error'}`;
    await expect(breaker.execute(() => Promise.reject(new Error('bad input')), { fallback })).rejects.toThrow(
      'bad input',
    );
    await expect(breaker.execute(fail, { fallback })).resolves.toBe('fallback:error');
    await breaker.execute(fail, { fallback });
    await expect(breaker.execute(ok, { fallback })).resolves.toBe('fallback:CIRCUIT_OPEN');
    expect(breaker.stats().totals.fallbacks).toBe(3);
  });

  it('can be opened, isolated and closed by hand', async () => {
    const breaker = new CircuitBreaker('svc', { resetTimeout: 1000 });
    breaker.isolate();
    vi.advanceTimersByTime(60_000);
    expect(breaker.state).toBe('isolated');
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', isRetryable: false });
    breaker.close();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    breaker.open();
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterMs: 1000 });
  });

  it('emits success, failure, reject and timeout events with payloads', async () => {
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 2, timeout: 50 });
    const seen: string[] = [];
    breaker.on('success', (e) => seen.push(`success:${e.name}`));
    const off = breaker.on('failure', (e) => seen.push(`failure:${(e.error as Error).message}`));
    breaker.on('timeout', (e) => seen.push(`timeout:${e.timeoutMs}`));
    breaker.on('reject', (e) => seen.push(`reject:${e.state}`));
    await breaker.execute(ok);
    await failTimes(breaker, 1);
    const hanging = breaker.execute(() => new Promise(() => undefined)).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(50);
    await hanging;
    await breaker.execute(ok).catch(() => undefined);
    off();
    expect(seen).toEqual([
      'success:svc',
      'failure:boom',
      'timeout:50',
      'failure:Circuit "svc" call timed out after 50 ms',
      'reject:open',
    ]);
  });

  it('a throwing listener neither breaks the call nor silences other listeners', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const breaker = new CircuitBreaker('svc');
    const calls: number[] = [];
    breaker.on('success', () => {
      throw new Error('listener bug');
    });
    breaker.on('success', () => calls.push(1));
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(calls).toEqual([1]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('listener bug'),
      expect.objectContaining({ code: 'INFRA_LISTENER_ERROR' }),
    );
    warn.mockRestore();
  });

  it('accepts synchronous functions and wraps functions', async () => {
    const breaker = new CircuitBreaker('svc');
    await expect(breaker.execute(() => 42)).resolves.toBe(42);
    const add = breaker.wrap((a: number, b: number) => a + b);
    await expect(add(2, 3)).resolves.toBe(5);
    await expect(
      breaker.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
  });

  it.each([
    ['failureThreshold', { failureThreshold: 1.5 }],
    ['failureThreshold', { failureThreshold: 0 }],
    ['failureThreshold', { failureThreshold: Number.NaN }],
    ['resetTimeout', { resetTimeout: -1 }],
    ['timeout', { timeout: -5 }],
    ['minimumThroughput', { minimumThroughput: 0 }],
    ['halfOpenMaxProbes', { halfOpenMaxProbes: 1.5 }],
    ['consecutiveFailures', { consecutiveFailures: 0 }],
    ['slidingWindow.size', { slidingWindow: { kind: 'count', size: 0 } }],
    ['slidingWindow.durationMs', { slidingWindow: { kind: 'time', durationMs: -1 } }],
    ['slidingWindow.kind', { slidingWindow: { kind: 'sliding' } }],
    ['isFailure', { isFailure: 'yes' }],
  ])('rejects a bad %s at construction', (option, options) => {
    expect(() => new CircuitBreaker('svc', options as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option, message: expect.stringContaining(option) as string }),
    );
  });

  it('rejects an empty name', () => {
    expect(() => new CircuitBreaker('')).toThrow(/name/);
  });
});
