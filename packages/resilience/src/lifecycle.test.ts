import { describe, expect, it } from 'vitest';
import { Bulkhead, CircuitBreaker, Throttler, bulkhead } from './index.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Bulkhead.close', () => {
  it('turns waiting and new calls away with BULKHEAD_CLOSED and waits for running ones', async () => {
    const policy = bulkhead(1, 2);
    const gate = deferred<string>();
    const running = policy.execute(() => gate.promise);
    const waiting = policy.execute(() => 'never');
    let closed = false;
    const closing = policy.close().then(() => {
      closed = true;
    });
    await expect(waiting).rejects.toMatchObject({ code: 'BULKHEAD_CLOSED' });
    await expect(policy.execute(() => 'late')).rejects.toMatchObject({ code: 'BULKHEAD_CLOSED' });
    expect(closed).toBe(false);
    gate.resolve('done');
    await expect(running).resolves.toBe('done');
    await closing;
    expect(closed).toBe(true);
    await expect(policy.close()).resolves.toBeUndefined();
  });

  it('stops waiting for running calls after timeoutMs, and is an async disposable', async () => {
    const policy = new Bulkhead({ maxConcurrent: 1 });
    void policy.execute(() => new Promise(() => undefined));
    await expect(policy.close({ timeoutMs: 20 })).resolves.toBeUndefined();
    await using disposable = new Bulkhead({ maxConcurrent: 1 });
    expect(typeof disposable[Symbol.asyncDispose]).toBe('function');
    expect(() => policy.close({ timeoutMs: -1 })).toThrow(/timeoutMs.*-1/);
  });
});

describe('Throttler.close', () => {
  it('waits for started calls within timeoutMs', async () => {
    const throttler = new Throttler({ limit: 1, intervalMs: 60_000 });
    const gate = deferred<string>();
    const started = throttler.execute(() => gate.promise);
    const queued = throttler.execute(() => 'queued');
    let closed = false;
    const closing = throttler.close().then(() => {
      closed = true;
    });
    await expect(queued).rejects.toMatchObject({ code: 'THROTTLER_CLOSED' });
    expect(closed).toBe(false);
    gate.resolve('ok');
    await expect(started).resolves.toBe('ok');
    await closing;
    expect(closed).toBe(true);
  });
});

describe('CircuitBreaker durations', () => {
  it('takes resetTimeoutMs and timeoutMs, and the documented resetTimeout and timeout', async () => {
    let now = 0;
    const breaker = new CircuitBreaker('ms', { resetTimeoutMs: 100, consecutiveFailures: 1, now: () => now });
    await expect(breaker.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(breaker.state).toBe('open');
    now = 100;
    expect(breaker.state).toBe('half-open');
    const documented = new CircuitBreaker('documented', { resetTimeout: 100, consecutiveFailures: 1, now: () => now });
    await expect(documented.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    now = 199;
    expect(documented.state).toBe('open');
    const timed = new CircuitBreaker('timed', { timeoutMs: 10 });
    await expect(timed.execute(() => new Promise(() => undefined))).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('refuses a name and its alias with different values', () => {
    expect(() => new CircuitBreaker('x', { resetTimeoutMs: 1, resetTimeout: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'resetTimeout' }),
    );
    expect(() => new CircuitBreaker('x', { timeoutMs: 1, timeout: 1 })).not.toThrow();
    expect(() => new CircuitBreaker('x', { resetTimeoutMs: -3 })).toThrow(/resetTimeoutMs.*-3/);
  });
});
