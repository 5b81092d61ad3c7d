import { tracerFor, withSpan } from '@infra/core';
import { useTestTracing, type TestTracing, startTestTracing } from '@infra/test-utils/tracing';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import { RateLimiter } from './rate-limit/rate-limiter.js';
import { RetryPolicy } from './retry.js';
import { TimeoutPolicy } from './timeout.js';

const tracer = tracerFor('resilience-test');
const fail = (): Promise<never> => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNRESET' }));

/** Runs `fn` in a span named `name` and returns that span's events as `[name, attributes]`. */
async function eventsOf(tracing: TestTracing, fn: () => Promise<unknown>): Promise<[string, unknown][]> {
  await withSpan(tracer, 'caller', {}, () => fn().catch(() => undefined));
  const [caller] = tracing.spansNamed('caller');
  return (caller?.events ?? []).map((event) => [event.name, event.attributes]);
}

describe('resilience events on the current span', () => {
  const tracing = useTestTracing();

  it('adds one retry event per retry, with the attempt, the delay and the error type', async () => {
    const retry = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 1, jitter: 'none' });
    const events = await eventsOf(tracing, () => retry.execute(fail));
    expect(events).toEqual([
      ['retry', { 'retry.attempt': 1, 'retry.delay_ms': 1, 'error.type': 'ECONNRESET' }],
      ['retry', { 'retry.attempt': 2, 'retry.delay_ms': 2, 'error.type': 'ECONNRESET' }],
    ]);
  });

  it('adds the breaker state changes and rejections to the span of the call that caused them', async () => {
    const breaker = new CircuitBreaker('payments', { consecutiveFailures: 1, resetTimeoutMs: 60_000 });
    expect(await eventsOf(tracing, () => breaker.execute(fail))).toEqual([
      [
        'circuit_breaker.state_change',
        { 'circuit_breaker.name': 'payments', 'circuit_breaker.from': 'closed', 'circuit_breaker.to': 'open' },
      ],
    ]);
    tracing.reset();
    const [[name, attributes]] = (await eventsOf(tracing, () => breaker.execute(() => Promise.resolve(1)))) as [
      [string, Record<string, unknown>],
    ];
    expect(name).toBe('circuit_breaker.rejected');
    expect(attributes).toMatchObject({ 'circuit_breaker.name': 'payments', 'circuit_breaker.state': 'open' });
    expect(attributes['circuit_breaker.retry_after_ms']).toBeGreaterThan(0);
  });

  it('adds a timeout event to the caller span, though the deadline fires from a timer', async () => {
    const policy = new TimeoutPolicy(20);
    const never = (): Promise<never> => new Promise<never>(() => undefined);
    expect(await eventsOf(tracing, () => policy.execute(never))).toEqual([
      ['timeout', { 'timeout.ms': 20, 'timeout.operation': 'Operation' }],
    ]);
  });

  it('adds a refusal event without the key when a rate limit refuses', async () => {
    await using limiter = new RateLimiter({ name: 'login', limit: 1, windowMs: 60_000 });
    expect(await eventsOf(tracing, () => limiter.consume('203.0.113.9'))).toEqual([]);
    tracing.reset();
    const events = (await eventsOf(tracing, () => limiter.consume('203.0.113.9'))) as [
      string,
      Record<string, unknown>,
    ][];
    expect(events.map(([name]) => name)).toEqual(['rate_limit.refused']);
    expect(events[0]?.[1]).toMatchObject({ 'rate_limit.name': 'login', 'rate_limit.limit': 1 });
    expect(JSON.stringify(events)).not.toContain('203.0.113.9');
  });
});

describe('without an SDK', () => {
  it('records nothing and behaves the same', async () => {
    const tracing = startTestTracing();
    await tracing.stop();
    const retry = new RetryPolicy({ maxAttempts: 2, initialDelayMs: 1 });
    await expect(retry.execute(fail)).rejects.toThrow('down');
    const breaker = new CircuitBreaker('quiet', { consecutiveFailures: 1 });
    await expect(breaker.execute(fail)).rejects.toThrow('down');
    await expect(breaker.execute(fail)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(tracing.spans()).toEqual([]);
  });
});
