import { describe, expect, it, vi } from 'vitest';
import { cachedNow } from './clock.js';

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // The test needs time to pass without the event loop turning.
  }
}

const turn = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cachedNow', () => {
  it('serves one reading to at most 64 calls, then reads the clock again', async () => {
    await turn(5); // let an earlier reading expire
    const before = Date.now();
    const first = cachedNow();
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(Date.now());
    busyWait(3);
    const next = Array.from({ length: 64 }, () => cachedNow());
    expect(next.slice(0, 63)).toEqual(Array.from({ length: 63 }, () => first));
    expect(next[63]).toBeGreaterThanOrEqual(first + 3);
  });

  it('drops its reading once the event loop turns a millisecond later', async () => {
    await turn(5);
    const first = cachedNow();
    await turn(5);
    const now = Date.now();
    expect(now).toBeGreaterThan(first);
    // A fresh reading, taken after `now`; the held one would be older.
    expect(cachedNow()).toBeGreaterThanOrEqual(now);
  });

  it('keeps no timer alive: the process may exit while a reading is held', async () => {
    const refed = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    await turn(5);
    const before = refed();
    cachedNow();
    // The 1 ms expiry timer exists but is unref'd, so it is not listed as keeping the loop alive.
    expect(refed()).toBe(before);
  });

  it('re-arms one timer, which stays unref-ed, and drops the reading every time', async () => {
    const refed = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    await turn(5);
    for (let cycle = 0; cycle < 3; cycle++) {
      // Counted in the same synchronous stretch: other timers of the test run come and go.
      const before = refed();
      const held = cachedNow();
      expect(refed()).toBe(before);
      await turn(5);
      expect(cachedNow()).toBeGreaterThan(held);
    }
  });

  it('arms a real timer again after a fake clock that made the last one is gone', async () => {
    await turn(5);
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      cachedNow();
    } finally {
      vi.useRealTimers();
    }
    // The 64-call budget ends the fake-armed reading; the next one must arm a timer that fires.
    for (let i = 0; i < 64; i++) cachedNow();
    const held = cachedNow();
    await turn(5);
    expect(cachedNow()).toBeGreaterThan(held);
  });
});
