import { eventually } from '@infra/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assertNoDuplicateFamilies, duplicateFamilies, parsePrometheus, valueOf } from '../test/prometheus-text.js';
import { MetricsCollector } from './metrics-collector.js';
import { PerformanceMonitor } from './performance-monitor.js';
import type { Logger } from '@infra/core';

const monitors: PerformanceMonitor[] = [];
afterEach(() => {
  for (const monitor of monitors.splice(0)) monitor.stop();
});

function warnings(): Logger & { warned: { fields: Record<string, unknown>; message?: string }[] } {
  const warned: { fields: Record<string, unknown>; message?: string }[] = [];
  return {
    warned,
    debug: () => {},
    info: () => {},
    error: () => {},
    warn: (fields, message) => void warned.push({ fields: fields as Record<string, unknown>, message }),
  };
}

function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // Busy-wait on purpose: the test needs a blocked event loop.
  }
}

describe('PerformanceMonitor', () => {
  it('measures operations, returns their result, and records ok/error durations', async () => {
    let now = 0;
    const metrics = new MetricsCollector();
    const logger = warnings();
    const monitor = new PerformanceMonitor({ metrics, logger, now: () => now, slowThresholdMs: 100 });
    monitors.push(monitor);

    const value = await monitor.measure('load-challenge', async () => {
      now += 40;
      return 'challenge';
    });
    expect(value).toBe('challenge');
    await expect(
      monitor.measure('score', () => {
        now += 250;
        throw new Error('scoring failed');
      }),
    ).rejects.toThrow('scoring failed');

    const parsed = parsePrometheus(await metrics.metrics());
    expect(
      valueOf(parsed, 'perf_operation_duration_seconds_count', { operation: 'load-challenge', outcome: 'ok' }),
    ).toBe(1);
    expect(
      valueOf(parsed, 'perf_operation_duration_seconds_sum', { operation: 'load-challenge', outcome: 'ok' }),
    ).toBeCloseTo(0.04);
    expect(valueOf(parsed, 'perf_operation_duration_seconds_count', { operation: 'score', outcome: 'error' })).toBe(1);
    expect(valueOf(parsed, 'perf_slow_operations_total', { operation: 'score' })).toBe(1);
    expect(valueOf(parsed, 'perf_slow_operations_total', { operation: 'load-challenge' })).toBeUndefined();
    expect(logger.warned).toEqual([
      {
        fields: { operation: 'score', durationMs: 250, thresholdMs: 100, outcome: 'error' },
        message: 'slow operation "score"',
      },
    ]);
    expect(monitor.snapshot().slowOperations).toBe(1);
  });

  it('samples event-loop delay and heap into metrics while started', async () => {
    const metrics = new MetricsCollector();
    const monitor = new PerformanceMonitor({
      metrics,
      logger: warnings(),
      sampleIntervalMs: 60_000,
      eventLoopResolutionMs: 10,
    });
    monitors.push(monitor);
    monitor.start();
    monitor.start();
    // Let the histogram take samples around a blocked stretch of the loop.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      blockFor(60);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const snapshot = monitor.sample();
    expect(snapshot.eventLoopDelay.max).toBeGreaterThanOrEqual(40);
    expect(snapshot.heap.usedBytes).toBeGreaterThan(0);
    const parsed = parsePrometheus(await metrics.metrics());
    expect(valueOf(parsed, 'perf_event_loop_delay_seconds', { stat: 'max' })).toBeGreaterThanOrEqual(0.04);
    expect(valueOf(parsed, 'perf_heap_used_bytes')).toBe(snapshot.heap.usedBytes);
    expect(valueOf(parsed, 'perf_rss_bytes')).toBeGreaterThan(0);
  });

  it('observes garbage collections when gc is exposed', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const collect = gc ?? (runInNewContext('gc') as () => void);
    const metrics = new MetricsCollector();
    const monitor = new PerformanceMonitor({ metrics, logger: warnings() }).start();
    monitors.push(monitor);
    collect();
    // GC entries reach the observer asynchronously; on a busy machine that can take a while.
    await eventually(() => monitor.snapshot().gc.count > 0, 10_000);
    const parsed = parsePrometheus(await metrics.metrics());
    const count = parsed.samples
      .filter((s) => s.name === 'perf_gc_duration_seconds_count')
      .reduce((sum, s) => sum + s.value, 0);
    expect(count).toBeGreaterThan(0);
  });

  it("leaves event loop, heap and GC to prom-client's default metrics when the collector exports them", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const collect = gc ?? (runInNewContext('gc') as () => void);
    const metrics = new MetricsCollector({ defaultMetrics: true });
    const monitor = new PerformanceMonitor({ metrics, logger: warnings() }).start();
    monitors.push(monitor);
    collect();
    await eventually(() => monitor.snapshot().gc.count > 0, 10_000);
    monitor.sample();
    await monitor.measure('job', () => 1);
    const text = await metrics.metrics();
    assertNoDuplicateFamilies(text);
    const parsed = parsePrometheus(text);
    expect(parsed.types.get('nodejs_gc_duration_seconds')).toBe('histogram');
    expect(parsed.types.has('perf_gc_duration_seconds')).toBe(false);
    expect(parsed.types.has('perf_heap_used_bytes')).toBe(false);
    expect(valueOf(parsed, 'perf_operation_duration_seconds_count', { operation: 'job', outcome: 'ok' })).toBe(1);
  });

  it('finds a family exported twice, split in two groups, or under the name of a default metric', () => {
    const once = '# HELP a_total A\n# TYPE a_total counter\na_total 1\n';
    expect(duplicateFamilies(once)).toEqual([]);
    expect(duplicateFamilies(once + once)).toEqual(['a_total: # TYPE declared twice']);
    const split = '# TYPE h histogram\nh_bucket{le="+Inf"} 1\n# TYPE g gauge\ng 1\nh_sum 1\n';
    expect(duplicateFamilies(split)).toEqual(['h: samples in two groups']);
    const renamed = '# TYPE perf_gc_duration_seconds histogram\n# TYPE nodejs_gc_duration_seconds histogram\n';
    expect(duplicateFamilies(renamed)).toHaveLength(1);
    const counted = '# TYPE http_requests_total counter\n# TYPE http_request_duration_seconds histogram\n';
    expect(duplicateFamilies(counted)).toEqual([
      'http_requests_total and http_request_duration_seconds: the same quantity under two names',
    ]);
    expect(() => {
      assertNoDuplicateFamilies(once + once);
    }).toThrow(/a_total/);
  });

  it("keeps no ref'd handle and stops cleanly: timer cleared, histogram disabled, observer disconnected", () => {
    // Only timers: the worker's own pipes and file reads come and go while the test runs.
    const refed = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    const before = refed();
    const real = new PerformanceMonitor({ logger: warnings(), sampleIntervalMs: 5 }).start();
    // The sampling timer is unref'd: it never keeps the process alive.
    expect(refed()).toBe(before);
    real.stop();

    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const timers = vi.getTimerCount();
      const monitor = new PerformanceMonitor({ logger: warnings(), sampleIntervalMs: 5 });
      monitor.start();
      expect(monitor.isRunning).toBe(true);
      expect(vi.getTimerCount()).toBe(timers + 1);
      monitor.stop();
      monitor.stop();
      expect(monitor.isRunning).toBe(false);
      expect(vi.getTimerCount()).toBe(timers);
      expect(monitor.snapshot().eventLoopDelay.max).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('validates its input', async () => {
    expect(() => new PerformanceMonitor({ sampleIntervalMs: 0 })).toThrow(/"sampleIntervalMs".*got 0/);
    expect(() => new PerformanceMonitor({ logger: {} as never })).toThrow(/"logger"/);
    const monitor = new PerformanceMonitor({ logger: warnings() });
    await expect(monitor.measure('', () => 1)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'name' });
    await expect(monitor.measure('x', 5 as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'fn' });
  });
});
