import { EventEmitter } from 'node:events';
import { CircuitBreaker } from '@infra/resilience';
import { describe, expect, it } from 'vitest';
import { parsePrometheus, valueOf } from '../test/prometheus-text.js';
import { ComponentMonitor } from './component-monitor.js';
import { MetricsCollector } from './metrics-collector.js';

describe('ComponentMonitor', () => {
  it('records a real @infra/resilience circuit breaker: calls, outcomes, state', async () => {
    const metrics = new MetricsCollector();
    const monitor = new ComponentMonitor({ metrics });
    const breaker = new CircuitBreaker('payments', {
      slidingWindow: { kind: 'count', size: 4 },
      minimumThroughput: 3,
      failureThreshold: 0.6,
    });
    const detach = monitor.attachBreaker(breaker);

    await breaker.execute(async () => 'ok');
    for (let i = 0; i < 2; i++) await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await breaker.execute(async () => 'ok').catch(() => undefined);

    const parsed = parsePrometheus(await metrics.metrics());
    expect(valueOf(parsed, 'breaker_calls_total', { breaker: 'payments', outcome: 'success' })).toBe(1);
    expect(valueOf(parsed, 'breaker_calls_total', { breaker: 'payments', outcome: 'failure' })).toBe(2);
    expect(valueOf(parsed, 'breaker_calls_total', { breaker: 'payments', outcome: 'reject' })).toBe(1);
    expect(valueOf(parsed, 'breaker_state', { breaker: 'payments' })).toBe(2);
    expect(valueOf(parsed, 'breaker_transitions_total', { breaker: 'payments', to: 'open' })).toBe(1);
    expect(valueOf(parsed, 'breaker_call_duration_seconds_count', { breaker: 'payments', outcome: 'failure' })).toBe(2);

    detach();
    breaker.close();
    await breaker.execute(async () => 'ok');
    expect(
      valueOf(parsePrometheus(await metrics.metrics()), 'breaker_calls_total', {
        breaker: 'payments',
        outcome: 'success',
      }),
    ).toBe(1);
  });

  it('records cache events by cache name, never by key', async () => {
    const metrics = new MetricsCollector();
    const cache = new EventEmitter();
    const detach = new ComponentMonitor({ metrics }).attachCache(cache);
    cache.emit('hit', { cache: 'challenges', key: 'challenge:1' });
    cache.emit('hit', { cache: 'challenges', key: 'challenge:2' });
    cache.emit('miss', { cache: 'challenges', key: 'challenge:3' });
    cache.emit('set', { cache: 'challenges', key: 'challenge:3' });
    cache.emit('evict', { cache: 'challenges', key: 'challenge:1', reason: 'lru' });
    cache.emit('error', { cache: 'challenges', operation: 'get', key: 'x', error: new Error('redis down') });
    cache.emit('load', { cache: 'challenges', key: 'challenge:3', durationMs: 12, error: undefined });
    cache.emit('stampedeDedup', { cache: 'challenges', key: 'challenge:3' });
    const text = await metrics.metrics();
    const parsed = parsePrometheus(text);
    expect(valueOf(parsed, 'cache_requests_total', { cache: 'challenges', result: 'hit' })).toBe(2);
    expect(valueOf(parsed, 'cache_requests_total', { result: 'miss' })).toBe(1);
    expect(valueOf(parsed, 'cache_events_total', { event: 'set' })).toBe(1);
    expect(valueOf(parsed, 'cache_events_total', { event: 'stampede_dedup' })).toBe(1);
    expect(valueOf(parsed, 'cache_evictions_total', { reason: 'lru' })).toBe(1);
    expect(valueOf(parsed, 'cache_errors_total', { operation: 'get' })).toBe(1);
    expect(valueOf(parsed, 'cache_load_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(text).not.toContain('challenge:');
    detach();
    expect(cache.listenerCount('hit')).toBe(0);
  });

  it('reads the lookups of a cache that counts its own from stats() at each scrape, listening to no hit', async () => {
    const metrics = new MetricsCollector();
    const counts = { name: 'challenges', hits: 5, misses: 1 };
    const cache = Object.assign(new EventEmitter(), { stats: () => ({ ...counts }) });
    const monitor = new ComponentMonitor({ metrics });
    const detach = monitor.attachCache(cache);
    expect(cache.listenerCount('hit')).toBe(0);
    expect(cache.listenerCount('miss')).toBe(0);
    expect(cache.listenerCount('set')).toBe(1);
    const lookups = async (result: string) =>
      valueOf(parsePrometheus(await metrics.metrics()), 'cache_requests_total', { cache: 'challenges', result });
    // Counted from the attach on: what the cache counted before is not a lookup seen here.
    expect(await lookups('hit')).toBeUndefined();
    counts.hits += 3;
    counts.misses += 2;
    expect(await lookups('hit')).toBe(3);
    expect(await lookups('miss')).toBe(2);
    expect(await lookups('hit')).toBe(3); // a second scrape adds nothing new
    // Counts reset at the source: the counter never goes down, and counting restarts from there.
    counts.hits = 1;
    expect(await lookups('hit')).toBe(3);
    counts.hits = 4;
    expect(await lookups('hit')).toBe(6);
    // Detached: what it counted since the last scrape is kept, later lookups are not counted, and
    // attaching it again does not count its earlier lookups twice.
    counts.hits += 2;
    detach();
    counts.hits += 10;
    expect(await lookups('hit')).toBe(8);
    monitor.attachCache(cache);
    counts.hits += 1;
    expect(await lookups('hit')).toBe(9);
  });

  it('records transaction outcomes, retries and hook errors', async () => {
    const metrics = new MetricsCollector();
    const manager = new EventEmitter();
    new ComponentMonitor({ metrics }).attachTransactions(manager, { name: 'pg' });
    manager.emit('commit', { id: 't1', attempt: 1, durationMs: 5 });
    manager.emit('rollback', { id: 't2', attempt: 1, durationMs: 3, error: new Error('x') });
    manager.emit('retry', { attempt: 1, delayMs: 10, error: new Error('40001') });
    manager.emit('hookError', { id: 't1', hook: 'afterCommit', error: new Error('y') });
    manager.emit('commit', 'not an object');
    const parsed = parsePrometheus(await metrics.metrics());
    expect(valueOf(parsed, 'db_transactions_total', { manager: 'pg', outcome: 'commit' })).toBe(1);
    expect(valueOf(parsed, 'db_transactions_total', { manager: 'pg', outcome: 'rollback' })).toBe(1);
    expect(valueOf(parsed, 'db_transaction_retries_total', { manager: 'pg' })).toBe(1);
    expect(valueOf(parsed, 'db_transaction_hook_errors_total', { hook: 'afterCommit' })).toBe(1);
  });

  it('validates its input', () => {
    expect(() => new ComponentMonitor({} as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'metrics' }),
    );
    const monitor = new ComponentMonitor({ metrics: new MetricsCollector() });
    expect(() => monitor.attachCache({} as never)).toThrow(/"source"/);
  });
});
