import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import { TimeWindow } from './outcome-window.js';

describe('TimeWindow', () => {
  it('counts a late reading where it lands instead of wiping a newer bucket', () => {
    const window = new TimeWindow(1000, 10); // 100 ms buckets
    window.record(true, false, 5_000);
    window.record(false, false, 5_050);
    // A reading a whole window older maps to the same bucket: it must not reset it.
    window.record(false, false, 4_000);
    expect(window.totals(5_050)).toEqual({ total: 3, failures: 1, slow: 0 });
    // A newer epoch does take the bucket over.
    window.record(false, false, 6_000);
    expect(window.totals(6_000)).toEqual({ total: 1, failures: 0, slow: 0 });
  });
});

describe('CircuitBreaker on the real clock', () => {
  it('counts every call of a time window, and opens on its failure rate', async () => {
    const breaker = new CircuitBreaker('real-clock', {
      minimumThroughput: 10,
      failureThreshold: 0.5,
      slidingWindow: { kind: 'time', durationMs: 60_000 },
    });
    for (let i = 0; i < 200; i++) await breaker.execute(async () => i);
    expect(breaker.stats().window).toMatchObject({ total: 200, failures: 0 });
    for (let i = 0; i < 199; i++) {
      await breaker
        .execute(async () => {
          throw new Error('down');
        })
        .catch(() => undefined);
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().window).toMatchObject({ total: 399, failures: 199 });
    await breaker
      .execute(async () => {
        throw new Error('down');
      })
      .catch(() => undefined);
    expect(breaker.state).toBe('open');
  });
});
