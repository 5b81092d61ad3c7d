import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parsePrometheus, valueOf } from '../test/prometheus-text.js';
import { MetricsCollector } from './metrics-collector.js';
import { OpenAIMonitor } from './openai-monitor.js';

/** The event surface an @infra/openai client offers: on(event, listener) returning an unsubscribe function. */
class FakeOpenAIClient {
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  on(event: string, listener: (payload: never) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (payload: unknown) => void);
    this.listeners.set(event, set);
    return () => set.delete(listener as (payload: unknown) => void);
  }
  emit(event: string, payload: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener(payload);
  }
  count(): number {
    return [...this.listeners.values()].reduce((sum, set) => sum + set.size, 0);
  }
}

describe('OpenAIMonitor', () => {
  it('turns request, usage, error and breaker events into metrics', async () => {
    const metrics = new MetricsCollector();
    const monitor = new OpenAIMonitor({ metrics });
    const client = new FakeOpenAIClient();
    const detach = monitor.attach(client);

    // Payloads as @infra/openai emits them (OpenAIClientEvents).
    client.emit('request', { model: 'gpt-4o-mini', endpoint: 'chat.completions', attempt: 1 });
    client.emit('retry', {
      model: 'gpt-4o-mini',
      endpoint: 'chat.completions',
      attempt: 1,
      delayMs: 200,
      code: 'SERVER_ERROR',
      status: 500,
    });
    client.emit('request', { model: 'gpt-4o-mini', endpoint: 'chat.completions', attempt: 2 });
    client.emit('usage', {
      model: 'gpt-4o-mini',
      endpoint: 'chat.completions',
      promptTokens: 1000,
      completionTokens: 500,
      totalTokens: 1500,
      latencyMs: 800,
      costUsd: 0,
      estimated: false,
      fallback: false,
    });
    client.emit('usage', {
      model: 'custom-model',
      endpoint: 'chat.completions',
      promptTokens: 10,
      completionTokens: 5,
      latencyMs: 100,
      costUsd: 0.25,
    });
    client.emit('error', {
      code: 'RATE_LIMITED',
      status: 429,
      model: 'gpt-4o-mini',
      endpoint: 'chat.completions',
      latencyMs: 50,
      message: 'x',
    });
    client.emit('error', {
      code: 'CIRCUIT_OPEN',
      model: undefined,
      endpoint: 'chat.completions',
      latencyMs: 1,
      message: 'y',
    });
    client.emit('breakerStateChange', { name: 'openai:gpt-4o-mini', model: 'gpt-4o-mini', from: 'closed', to: 'open' });
    client.emit('stateChange', { state: 'half-open', name: 'openai:gpt-4o-mini' });
    client.emit('rateLimited', {
      model: 'gpt-4o-mini',
      endpoint: 'chat.completions',
      scope: 'tokens',
      retryAfterMs: 100,
      waiting: true,
    });
    client.emit('fallback', { endpoint: 'chat.completions', from: 'gpt-4o', to: 'gpt-4o-mini', code: 'CIRCUIT_OPEN' });
    client.emit('cacheHit', { model: 'gpt-4o-mini', endpoint: 'chat.completions' });
    client.emit('usage', null);

    const parsed = parsePrometheus(await metrics.metrics());
    expect(valueOf(parsed, 'openai_requests_total', { model: 'gpt-4o-mini', operation: 'chat.completions' })).toBe(2);
    expect(valueOf(parsed, 'openai_retries_total', { model: 'gpt-4o-mini', code: 'SERVER_ERROR' })).toBe(1);
    expect(valueOf(parsed, 'openai_tokens_total', { model: 'gpt-4o-mini', type: 'prompt' })).toBe(1000);
    expect(valueOf(parsed, 'openai_tokens_total', { model: 'gpt-4o-mini', type: 'completion' })).toBe(500);
    // The cost is the client's: this package has no price table to second-guess it.
    expect(valueOf(parsed, 'openai_cost_usd_total', { model: 'gpt-4o-mini' })).toBe(0);
    expect(valueOf(parsed, 'openai_cost_usd_total', { model: 'custom-model' })).toBe(0.25);
    expect(valueOf(parsed, 'openai_request_duration_seconds_sum', { model: 'gpt-4o-mini', outcome: 'ok' })).toBeCloseTo(
      0.8,
    );
    expect(valueOf(parsed, 'openai_request_duration_seconds_count', { model: 'gpt-4o-mini', outcome: 'error' })).toBe(
      1,
    );
    expect(valueOf(parsed, 'openai_errors_total', { code: 'RATE_LIMITED', status: '429' })).toBe(1);
    expect(valueOf(parsed, 'openai_errors_total', { code: 'CIRCUIT_OPEN', status: 'none' })).toBe(1);
    expect(valueOf(parsed, 'openai_breaker_state', { breaker: 'openai:gpt-4o-mini' })).toBe(1);
    expect(valueOf(parsed, 'openai_breaker_transitions_total', { to: 'open' })).toBe(1);
    expect(valueOf(parsed, 'openai_rate_limited_total', { scope: 'tokens', waiting: 'true' })).toBe(1);
    expect(valueOf(parsed, 'openai_fallbacks_total', { from: 'gpt-4o', to: 'gpt-4o-mini' })).toBe(1);
    expect(valueOf(parsed, 'openai_cache_hits_total', { model: 'gpt-4o-mini' })).toBe(1);

    expect(client.count()).toBeGreaterThan(0);
    detach();
    expect(client.count()).toBe(0);
    client.emit('request', { model: 'gpt-4o-mini', endpoint: 'chat.completions', attempt: 1 });
    expect(
      valueOf(parsePrometheus(await metrics.metrics()), 'openai_requests_total', {
        model: 'gpt-4o-mini',
        operation: 'chat.completions',
      }),
    ).toBe(2);
  });

  it('works with an EventEmitter, labels clients apart, and counts the cost the event carries', async () => {
    const metrics = new MetricsCollector();
    const monitor = new OpenAIMonitor({ metrics });
    const emitter = new EventEmitter();
    const detach = monitor.attach(emitter, { name: 'batch' });
    emitter.emit('response', {
      model: 'my-model-2025-01-01',
      promptTokens: 1_000_000,
      completionTokens: 1_000_000,
      latencyMs: 5,
      costUsd: 3,
    });
    // No cost on the event: no price table here to guess one.
    emitter.emit('usage', { model: 'gpt-4o', promptTokens: 10, completionTokens: 10, latencyMs: 5 });
    const parsed = parsePrometheus(await metrics.metrics());
    expect(valueOf(parsed, 'openai_cost_usd_total', { client: 'batch', model: 'my-model-2025-01-01' })).toBe(3);
    expect(valueOf(parsed, 'openai_cost_usd_total', { client: 'batch', model: 'gpt-4o' })).toBe(0);
    detach();
    expect(emitter.listenerCount('response')).toBe(0);
  });

  it('validates its input', () => {
    const metrics = new MetricsCollector();
    expect(() => new OpenAIMonitor({} as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'metrics' }),
    );
    expect(() => new OpenAIMonitor({ metrics }).attach({} as never)).toThrow(/"client"/);
  });
});
