import { describe, expect, it } from 'vitest';
import { Counter, Histogram, Registry } from 'prom-client';
import { parsePrometheus, valueOf } from '../test/prometheus-text.js';
import { MetricsCollector } from './metrics-collector.js';
import { isMonitoringError } from './errors.js';

describe('MetricsCollector', () => {
  it('exposes counters, gauges and histograms with labels in parseable Prometheus text', async () => {
    const metrics = new MetricsCollector({ prefix: 'app_', defaultLabels: { service: 'challenges' } });
    const completed = metrics.counter({
      name: 'challenges_completed_total',
      help: 'Completed challenges',
      labelNames: ['difficulty'],
    });
    const queue = metrics.gauge({ name: 'queue_depth', help: 'Messages waiting', labelNames: ['queue'] });
    const latency = metrics.histogram({
      name: 'db_query_seconds',
      help: 'Query time',
      labelNames: ['op'],
      buckets: [0.1, 0.01, 1],
    });
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

  it('writes the same exposition text as prom-client for the same counts and observations', async () => {
    const ours = new MetricsCollector({ defaultLabels: { service: 'api' } });
    const theirs = new Registry();
    theirs.setDefaultLabels({ service: 'api' });
    const buckets = [0.01, 0.1, 1];
    const counter = ours.counter({ name: 'jobs_total', help: 'Jobs "done"\nby kind', labelNames: ['kind', 'queue'] });
    const histogram = ours.histogram({ name: 'job_seconds', help: 'Job time', labelNames: ['kind'], buckets });
    const plain = ours.counter({ name: 'ticks_total', help: 'Ticks' });
    const refCounter = new Counter({
      name: 'jobs_total',
      help: 'Jobs "done"\nby kind',
      labelNames: ['kind', 'queue'],
      registers: [theirs],
    });
    const refHistogram = new Histogram({
      name: 'job_seconds',
      help: 'Job time',
      labelNames: ['kind'],
      buckets,
      registers: [theirs],
    });
    new Counter({ name: 'ticks_total', help: 'Ticks', registers: [theirs] });
    for (const [kind, queue, seconds] of [
      ['mail', 'q"1', 0.005],
      ['mail', 'q"1', 0.5],
      ['sms', 'q\\2', 7],
      ['mail', 'q"1', 0.01],
    ] as const) {
      counter.inc({ kind, queue });
      refCounter.inc({ kind, queue });
      histogram.observe({ kind }, seconds);
      refHistogram.observe({ kind }, seconds);
    }
    counter.labels({ queue: 'no-kind' }).inc(2.5);
    refCounter.inc({ queue: 'no-kind' }, 2.5);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(plain.name).toBe('ticks_total');
  });

  it('records through bound series, which keep recording after a reset', async () => {
    const metrics = new MetricsCollector();
    const requests = metrics.counter({ name: 'requests_total', help: 'Requests', labelNames: ['route'] });
    const duration = metrics.histogram({
      name: 'request_seconds',
      help: 'Time',
      labelNames: ['route'],
      buckets: [0.1, 1],
    });
    const users = requests.labels({ route: '/users/:id' });
    const usersTime = duration.labels({ route: '/users/:id' });
    users.inc();
    users.inc(2);
    requests.inc({ route: '/users/:id' });
    usersTime.observe(0.05);
    usersTime.observe(0.5);
    let parsed = parsePrometheus(await metrics.metrics());
    expect(valueOf(parsed, 'requests_total', { route: '/users/:id' })).toBe(4);
    expect(valueOf(parsed, 'request_seconds_bucket', { route: '/users/:id', le: '0.1' })).toBe(1);
    expect(valueOf(parsed, 'request_seconds_bucket', { route: '/users/:id', le: '1' })).toBe(2);
    expect(valueOf(parsed, 'request_seconds_sum', { route: '/users/:id' })).toBeCloseTo(0.55);

    metrics.resetValues();
    parsed = parsePrometheus(await metrics.metrics());
    // prom-client's reset drops the labelled series; a bound series brings its own back.
    expect(valueOf(parsed, 'requests_total', { route: '/users/:id' })).toBeUndefined();
    expect(valueOf(parsed, 'request_seconds_count', { route: '/users/:id' })).toBeUndefined();
    users.inc();
    usersTime.observe(2);
    parsed = parsePrometheus(await metrics.metrics());
    expect(valueOf(parsed, 'requests_total', { route: '/users/:id' })).toBe(1);
    expect(valueOf(parsed, 'request_seconds_bucket', { route: '/users/:id', le: '1' })).toBe(0);
    expect(valueOf(parsed, 'request_seconds_bucket', { route: '/users/:id', le: '+Inf' })).toBe(1);

    expect(() => requests.labels({ path: '/x' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_LABEL' }));
    expect(() => {
      users.inc(-1);
    }).toThrow(/Counter "requests_total" can only increase; got -1/);
    expect(() => {
      usersTime.observe(Number.NaN);
    }).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('calls collect at each read, before the values are written, and refuses one that is not a function', async () => {
    const metrics = new MetricsCollector();
    let served = 0;
    let added = 0;
    const reads: number[] = [];
    const counter = metrics.counter({
      name: 'served_total',
      help: 'Served',
      collect: () => {
        reads.push(served);
        counter.inc({}, served - added);
        added = served;
      },
    });
    const queue = metrics.gauge({
      name: 'queue_depth',
      help: 'Depth',
      collect: async () => {
        await Promise.resolve();
        queue.set({}, served * 2);
      },
    });
    served = 4;
    let text = await metrics.metrics();
    expect(valueOf(parsePrometheus(text), 'served_total')).toBe(4);
    expect(valueOf(parsePrometheus(text), 'queue_depth')).toBe(8);
    served = 7;
    text = await metrics.metrics();
    expect(valueOf(parsePrometheus(text), 'served_total')).toBe(7);
    expect(reads).toEqual([4, 7]);
    expect(() => metrics.histogram({ name: 'h_seconds', help: 'H', collect: 'soon' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('"h_seconds"') as unknown }),
    );
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
    expect(() => metrics.counter({ name: 'hits_total', help: 'Hits', labelNames: ['a'] })).toThrow(
      /already exists as a counter with labels \[a,b\]/,
    );
    const shared = new Registry();
    new MetricsCollector({ registry: shared }).gauge({ name: 'queue_depth', help: 'x' });
    expect(() => new MetricsCollector({ registry: shared }).gauge({ name: 'queue_depth', help: 'x' })).toThrow(
      /already registered in this registry by someone else/,
    );
  });

  it('rejects names Prometheus refuses and labels outside the declared set', () => {
    const metrics = new MetricsCollector();
    expect(() => metrics.counter({ name: 'http-requests', help: 'x' })).toThrow(/Invalid metric name "http-requests"/);
    expect(() => metrics.counter({ name: '1abc', help: 'x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_METRIC' }),
    );
    expect(() => metrics.counter({ name: 'ok_total', help: '' })).toThrow(/help/);
    expect(() => metrics.counter({ name: 'a_total', help: 'x', labelNames: ['bad-label'] })).toThrow(
      /Invalid label name "bad-label"/,
    );
    expect(() => metrics.counter({ name: 'b_total', help: 'x', labelNames: ['__reserved'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_LABEL' }),
    );
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
    expect(() => new MetricsCollector({ prefix: 'my-app' })).toThrow(
      expect.objectContaining({ code: 'INVALID_METRIC' }),
    );
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
