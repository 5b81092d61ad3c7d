import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bulkhead, CircuitBreaker, retry, Throttler, timeout, TokenBucket, wrap } from './index.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

describe('timeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aggressive: rejects at the deadline and aborts the signal', async () => {
    let signal: AbortSignal | undefined;
    const call = timeout(100)
      .execute((ctx) => {
        signal = ctx.signal;
        return new Promise(() => undefined);
      })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await call).toMatchObject({ code: 'TIMEOUT', timeoutMs: 100 });
    expect(signal?.aborted).toBe(true);
  });

  it('cooperative: waits for the function, which sees the abort', async () => {
    const call = timeout(100, 'cooperative').execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            setTimeout(() => {
              reject(new Error('cleaned up'));
            }, 50);
          });
        }),
    );
    const outcome = call.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(50);
    const error = await outcome;
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect((error as Error).cause).toEqual(new Error('cleaned up'));
  });

  it('cooperative: returns the value of a function that finishes anyway', async () => {
    const call = timeout(100, 'cooperative').execute(
      () =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve('late');
          }, 150),
        ),
    );
    await vi.advanceTimersByTimeAsync(150);
    await expect(call).resolves.toBe('late');
  });

  it('passes values through and leaves no timer behind once the deadline has passed', async () => {
    await expect(timeout(1000).execute(() => 'fast')).resolves.toBe('fast');
    await vi.advanceTimersByTimeAsync(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects bad options', () => {
    expect(() => timeout(0)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'timeoutMs' }));
    expect(() => timeout(10, 'polite' as never)).toThrow(/strategy/);
  });
});

describe('bulkhead', () => {
  it('runs at most maxConcurrent, queues maxQueue and rejects the rest with BULKHEAD_FULL', async () => {
    const policy = bulkhead(2, 1);
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    let started = 0;
    const calls = gates.map((_, i) =>
      policy.execute(() => {
        started++;
        return gates[i]!.promise;
      }),
    );
    await expect(policy.execute(() => 9)).rejects.toMatchObject({
      code: 'BULKHEAD_FULL',
      maxConcurrent: 2,
      maxQueue: 1,
    });
    await Promise.resolve();
    expect(started).toBe(2);
    expect(policy.executing).toBe(2);
    expect(policy.queued).toBe(1);
    gates[0]!.resolve(0);
    await calls[0];
    await vi.waitFor(() => {
      expect(started).toBe(3);
    });
    gates[1]!.resolve(1);
    gates[2]!.resolve(2);
    await expect(Promise.all(calls)).resolves.toEqual([0, 1, 2]);
    expect(policy.executing).toBe(0);
  });

  it('frees the slot when the function throws, and drops an aborted waiter from the queue', async () => {
    const policy = bulkhead(1, 1);
    const gate = deferred<string>();
    const running = policy.execute(() => gate.promise);
    const controller = new AbortController();
    const waiting = policy.execute(() => 'never', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(policy.queued).toBe(0);
    gate.resolve('done');
    await running;
    await expect(policy.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(policy.execute(() => 'free')).resolves.toBe('free');
  });
});

describe('TokenBucket', () => {
  it('spends, refills lazily and reports the wait', async () => {
    let now = 0;
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 4, now: () => now });
    expect(bucket.tryRemove()).toBe(true);
    expect(bucket.tryRemove()).toBe(true);
    expect(bucket.tryRemove()).toBe(false);
    expect(bucket.timeUntilAvailable()).toBe(250);
    now = 250;
    expect(bucket.tryRemove()).toBe(true);
    now = 10_000;
    expect(bucket.available).toBe(2);
    expect(() => bucket.tryRemove(3)).toThrow(/count/);
    expect(() => new TokenBucket({ capacity: 1, refillPerSecond: -1 })).toThrow(/refillPerSecond/);
  });

  it('take() waits for tokens', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10 });
    await bucket.take();
    let done = false;
    const taking = bucket.take().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(60);
    await taking;
    expect(done).toBe(true);
    vi.useRealTimers();
  });
});

describe('Throttler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('queues calls to the rate instead of rejecting, in order', async () => {
    const throttler = new Throttler({ limit: 2, intervalMs: 1000 });
    const started: number[] = [];
    const t0 = Date.now();
    const calls = Array.from({ length: 6 }, (_, i) =>
      throttler.execute(() => {
        started.push(Date.now() - t0);
        return i;
      }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(2000);
    await expect(Promise.all(calls)).resolves.toEqual([0, 1, 2, 3, 4, 5]);
    expect(started.slice(2)).toEqual([500, 1000, 1500, 2000]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects over maxQueue, drops aborted waiters, and close() rejects the queue', async () => {
    const throttler = new Throttler({ limit: 1, intervalMs: 1000, maxQueue: 2 });
    await throttler.execute(() => 'first');
    const controller = new AbortController();
    const a = throttler.execute(() => 'a', { signal: controller.signal });
    const b = throttler.execute(() => 'b');
    await expect(throttler.execute(() => 'c')).rejects.toMatchObject({ code: 'THROTTLER_QUEUE_FULL' });
    controller.abort();
    await expect(a).rejects.toMatchObject({ code: 'ABORTED' });
    await throttler.close();
    await expect(b).rejects.toMatchObject({ code: 'THROTTLER_CLOSED' });
    await expect(throttler.execute(() => 'd')).rejects.toMatchObject({ code: 'THROTTLER_CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('wrap', () => {
  it('composes retry(breaker(timeout(fn))) with typed results', async () => {
    vi.useFakeTimers();
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 3, resetTimeout: 60_000 });
    const policy = wrap(retry({ maxAttempts: 5, initialDelayMs: 10, jitter: 'none' }), breaker, timeout(100));
    let calls = 0;
    const result = policy.execute(({ attempt }) => {
      calls++;
      if (attempt < 3) return new Promise<number>(() => undefined); // times out
      return Promise.resolve(attempt * 10);
    });
    await vi.runAllTimersAsync();
    const value: number = await result;
    expect(value).toBe(30);
    expect(calls).toBe(3);
    expect(breaker.stats().totals).toMatchObject({ timeouts: 2, successes: 1 });
    vi.useRealTimers();
  });

  it('runs retry(breaker(timeout)) on one promise with exactly the behaviour of the nested policies', async () => {
    vi.useFakeTimers();
    type Step = 'ok' | 'fail' | 'hang' | 'reject-not-retryable';
    const scenarios: { name: string; steps: Step[]; openFirst?: boolean; abortAt?: number }[] = [
      { name: 'first attempt succeeds', steps: ['ok'] },
      { name: 'two failures, then success', steps: ['fail', 'fail', 'ok'] },
      { name: 'a timeout, then success', steps: ['hang', 'ok'] },
      { name: 'the breaker opens on the way', steps: ['fail', 'fail', 'fail', 'fail'] },
      { name: 'the breaker is open from the start', steps: ['ok'], openFirst: true },
      { name: 'an error that must not be retried', steps: ['reject-not-retryable', 'ok'] },
      { name: 'the caller aborts while the retry waits', steps: ['fail', 'ok'], abortAt: 5 },
      { name: 'every attempt fails', steps: ['fail', 'hang', 'fail', 'fail', 'fail'] },
    ];
    const run = async (scenario: (typeof scenarios)[number], fused: boolean) => {
      const events: string[] = [];
      const breaker = new CircuitBreaker('svc', { consecutiveFailures: 3, resetTimeout: 60_000 });
      const policyRetry = retry({ maxAttempts: 4, initialDelayMs: 10, jitter: 'none' });
      const policyTimeout = timeout(100);
      for (const event of ['success', 'failure', 'timeout', 'reject', 'stateChange'] as const)
        breaker.on(event, () => events.push(`breaker:${event}`));
      for (const event of ['retry', 'giveUp', 'success'] as const)
        policyRetry.on(event, () => events.push(`retry:${event}`));
      if (scenario.openFirst) breaker.open();
      const controller = new AbortController();
      const fn = ({ attempt, signal }: { attempt: number; signal: AbortSignal }) => {
        events.push(`attempt:${String(attempt)}:${signal.aborted ? 'aborted' : 'live'}`);
        const step = scenario.steps[attempt - 1] ?? 'ok';
        if (step === 'ok') return Promise.resolve(`value ${String(attempt)}`);
        if (step === 'hang') return new Promise<string>(() => undefined);
        if (step === 'reject-not-retryable')
          return Promise.reject(Object.assign(new Error('bad request'), { isRetryable: false }));
        return Promise.reject(new Error(`failure ${String(attempt)}`));
      };
      const policy = fused
        ? wrap(policyRetry, breaker, policyTimeout)
        : {
            execute: (f: typeof fn, options: { signal: AbortSignal }) =>
              policyRetry.execute((c) => breaker.run((inner) => policyTimeout.run(f, inner), c), options),
          };
      const outcome = policy.execute(fn, { signal: controller.signal }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error: (error as { code?: string; message: string }).code ?? (error as Error).message }),
      );
      if (scenario.abortAt !== undefined) {
        await vi.advanceTimersByTimeAsync(scenario.abortAt);
        controller.abort();
      }
      await vi.runAllTimersAsync();
      return { outcome: await outcome, events, totals: breaker.stats().totals, state: breaker.state };
    };
    for (const scenario of scenarios) {
      const nested = await run(scenario, false);
      const fused = await run(scenario, true);
      expect({ scenario: scenario.name, ...fused }).toEqual({ scenario: scenario.name, ...nested });
    }
    // The scenarios did take different paths.
    expect((await run(scenarios[2]!, true)).outcome).toEqual({ value: 'value 2' });
    expect((await run(scenarios[3]!, true)).outcome).toEqual({ error: 'CIRCUIT_OPEN' });
    expect((await run(scenarios[6]!, true)).outcome).toEqual({ error: 'ABORTED' });
    vi.useRealTimers();
  });

  it('an opening breaker stops the retries', async () => {
    vi.useFakeTimers();
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 2 });
    const fn = vi.fn(() => Promise.reject(new Error('down')));
    const call = wrap(retry({ maxAttempts: 10, initialDelayMs: 1 }), breaker)
      .execute(fn)
      .catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await call).toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(fn).toHaveBeenCalledTimes(2);
    vi.useRealTimers();
  });

  it('passes the caller signal through every layer', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const policy = wrap(retry(), new CircuitBreaker('svc'), bulkhead(1));
    await policy.execute(
      ({ signal }) => {
        seen = signal;
      },
      { signal: controller.signal },
    );
    expect(seen).toBe(controller.signal);
    await expect(wrap().execute(() => 'bare')).resolves.toBe('bare');
  });
});

describe('timeout and the caller signal', () => {
  it('aggressive: a caller abort rejects at once with ABORTED and detaches from the signal', async () => {
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const call = timeout(60_000).execute(() => new Promise(() => undefined), { signal: controller.signal });
    controller.abort(new Error('client went away'));
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
  });
});
