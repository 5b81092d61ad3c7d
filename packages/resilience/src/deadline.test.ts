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
    expect(refTimers()).toBe(before + 1);
    release();
    await waiting;
    expect(await policy.execute(({ signal }) => signal.aborted)).toBe(false);
    // Both queues still have their (idle) timer armed, but unref'd: the process may exit.
    expect(refTimers()).toBe(before);
  });
});
