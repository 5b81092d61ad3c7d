import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { parsePrometheus, valueOf } from '../test/prometheus-text.js';
import { MetricsCollector } from './metrics-collector.js';
import { isMonitoringError } from './errors.js';

describe('MetricsCollector', () => {
  it('exposes counters, gauges and histograms with labels in parseable Prometheus text', async () => {
    const metrics = new MetricsCollector({ prefix: 'app_', defaultLabels: { service: 'challenges' } });
    const completed = metrics.counter({ name: 'challenges_completed_total', help: 'Completed challenges', labelNames: ['difficulty'] });
    const queue = metrics.gauge({ name: 'queue_depth', help: 'Messages waiting', labelNames: ['queue'] });
    const latency = metrics.histogram({ name: 'db_query_seconds', help: 'Query time', labelNames: ['op'], buckets: [0.1, 0.01, 1] });
    completed.inc({ difficulty: 'hard' });
    completed.inc({ difficulty: 'hard' }, 2);
    completed.inc({ difficulty: 'easy' });
    queue.set({ queue: 'emails' }, 7);
    queue.dec({ queue: 'emails' }, 2);
    latency.observe({ op: 'select' }, 0.005);
    latency.observe({ op: 'select' }, 0.5);

    const text = await metrics.metrics();
    const parsed = parsePrometheus(text);
    expect(parsed.types.get('app_challenges_completed_total')).toBe('counter');
    expect(parsed.types.get('app_db_query_seconds')).toBe('histogram');
    expect(valueOf(parsed, 'app_challenges_completed_total', { difficulty: 'hard' })).toBe(3);
    expect(valueOf(parsed, 'app_challenges_completed_total', { difficulty: 'easy', service: 'challenges' })).toBe(1);
    expect(valueOf(parsed, 'app_queue_depth', { queue: 'emails' })).toBe(5);
    expect(valueOf(parsed, 'app_db_query_seconds_bucket', { op: 'select', le: '0.01' })).toBe(1);
    expect(valueOf(parsed, 'app_db_query_seconds_bucket', { op: 'select', le: '1' })).toBe(2);
    expect(valueOf(parsed, 'app_db_query_seconds_count', { op: 'select' })).toBe(2);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('keeps two collectors apart: each has its own registry', async () => {
    const a = new MetricsCollector();
    const b = new MetricsCollector();
    a.counter({ name: 'jobs_total', help: 'Jobs' }).inc();
    b.counter({ name: 'jobs_total', help: 'Jobs' }).inc({}, 5);
    expect(valueOf(parsePrometheus(await a.metrics()), 'jobs_total')).toBe(1);
    expect(valueOf(parsePrometheus(await b.metrics()), 'jobs_total')).toBe(5);
  });

  it('returns the existing metric for an identical definition and rejects a clashing one', () => {
    const metrics = new MetricsCollector();
    const first = metrics.counter({ name: 'hits_total', help: 'Hits', labelNames: ['a', 'b'] });
    expect(metrics.counter({ name: 'hits_total', help: 'Hits', labelNames: ['b', 'a'] })).toBe(first);
    expect(() => metrics.gauge({ name: 'hits_total', help: 'Hits', labelNames: ['a', 'b'] })).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_METRIC' }),
    );
    expect(() => metrics.counter({ name: 'hits_total', help: 'Hits', labelNames: ['a'] })).toThrow(/already exists as a counter with labels \[a,b\]/);
    const shared = new Registry();
    new MetricsCollector({ registry: shared }).gauge({ name: 'queue_depth', help: 'x' });
    expect(() => new MetricsCollector({ registry: shared }).gauge({ name: 'queue_depth', help: 'x' })).toThrow(
      /already registered in this registry by someone else/,
    );
  });

  it('rejects names Prometheus refuses and labels outside the declared set', () => {
    const metrics = new MetricsCollector();
    expect(() => metrics.counter({ name: 'http-requests', help: 'x' })).toThrow(/Invalid metric name "http-requests"/);
    expect(() => metrics.counter({ name: '1abc', help: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_METRIC' }));
    expect(() => metrics.counter({ name: 'ok_total', help: '' })).toThrow(/help/);
    expect(() => metrics.counter({ name: 'a_total', help: 'x', labelNames: ['bad-label'] })).toThrow(/Invalid label name "bad-label"/);
    expect(() => metrics.counter({ name: 'b_total', help: 'x', labelNames: ['__reserved'] })).toThrow(expect.objectContaining({ code: 'INVALID_LABEL' }));
    expect(() => metrics.histogram({ name: 'c_seconds', help: 'x', labelNames: ['le'] })).toThrow(/reserved/);
    const counter = metrics.counter<'route'>({ name: 'requests_total', help: 'x', labelNames: ['route'] });
    try {
      counter.inc({ url: '/users/1' } as never);
      expect.unreachable();
    } catch (error) {
      expect(isMonitoringError(error, 'INVALID_LABEL')).toBe(true);
      expect((error as Error).message).toBe('Label "url" is not declared on metric "requests_total"; declared: route');
    }
    expect(() => {
      counter.inc({ route: '/x' }, -1);
    }).toThrow(/can only increase/);
    expect(() => new MetricsCollector({ prefix: 'my-app' })).toThrow(expect.objectContaining({ code: 'INVALID_METRIC' }));
  });

  it('collects default process metrics only when asked', async () => {
    const plain = new MetricsCollector();
    expect(await plain.metrics()).not.toContain('process_cpu');
    const withDefaults = new MetricsCollector({ defaultMetrics: true });
    withDefaults.enableDefaultMetrics();
    const parsed = parsePrometheus(await withDefaults.metrics());
    expect(parsed.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(valueOf(parsed, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });
});
