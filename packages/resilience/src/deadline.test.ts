import { describe, expect, it } from 'vitest';
import { CircuitBreaker, timeout } from './index.js';

const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('deadline timers (real timers)', () => {
  it('hold the process only while a call is waiting', async () => {
    const before = refTimers();
    const breaker = new CircuitBreaker('svc', { timeout: 60_000 });
    const policy = timeout(60_000, 'cooperative');
    let release!: () => void;
    const waiting = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    // A call gets its deadline when the event loop turns, if it is still running then.
    await new Promise((resolve) => setImmediate(resolve));
    expect(refTimers()).toBe(before + 1);
    release();
    await waiting;
    expect(await policy.execute(({ signal }) => signal.aborted)).toBe(false);
    // The breaker's queue still has its (idle) timer armed, but unref'd: the process may exit.
    expect(refTimers()).toBe(before);
  });

  it('never times a call out early, even when the task that started it runs on', async () => {
    const policy = timeout(50);
    const started = Date.now();
    const outcome = policy.execute(() => new Promise<never>(() => undefined)).catch((error: unknown) => error);
    const end = Date.now() + 20;
    while (Date.now() < end) {
      // The rest of the task that started the call.
    }
    expect(await outcome).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('sets no deadline timer for calls that settle before the event loop turns', async () => {
    const before = refTimers();
    const policy = timeout(60_000);
    for (let i = 0; i < 1000; i++) await policy.execute(async () => i);
    await new Promise((resolve) => setImmediate(resolve));
    expect(refTimers()).toBe(before);
    // More calls in flight in one turn than are kept waiting for it: they are queued at once.
    const gates: (() => void)[] = [];
    const calls = Array.from({ length: 600 }, () =>
      policy.execute(() => new Promise<void>((resolve) => gates.push(resolve))),
    );
    expect(refTimers()).toBe(before + 1);
    for (const open of gates) open();
    await Promise.all(calls);
    expect(refTimers()).toBe(before);
  });
});
