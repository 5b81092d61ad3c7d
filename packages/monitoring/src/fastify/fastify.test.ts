import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheus, valueOf } from '../../test/prometheus-text.js';
import { ErrorMonitor } from '../error-monitor.js';
import type { ErrorEvent } from '../error-event.js';
import { MetricsCollector } from '../metrics-collector.js';
import { metricsPlugin } from './index.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function app(options: Parameters<typeof metricsPlugin>[1] = {}): Promise<FastifyInstance> {
  const fastify = Fastify();
  apps.push(fastify);
  await fastify.register(metricsPlugin, options);
  fastify.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  fastify.post('/users', async (_request, reply) => reply.code(201).send({ ok: true }));
  fastify.get('/boom', async () => {
    throw new Error('exploded with token=abc123');
  });
  await fastify.register(
    async (child) => {
      child.get('/items/:itemId', async () => 'item');
    },
    { prefix: '/v1' },
  );
  return fastify;
}

describe('@infra/monitoring/fastify', () => {
  it('records RED metrics per route pattern and status class, never raw URLs', async () => {
    const collector = new MetricsCollector();
    const fastify = await app({ collector });
    for (const id of ['1', '2', '3']) await fastify.inject(`/users/${id}`);
    await fastify.inject({ method: 'POST', url: '/users' });
    await fastify.inject('/boom');
    await fastify.inject('/v1/items/42');
    await fastify.inject('/no/such/path/123');
    await fastify.inject('/another-missing');

    const response = await fastify.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheus(response.body);
    const count = (labels: Record<string, string>) => valueOf(parsed, 'http_request_duration_seconds_count', labels);
    expect(count({ method: 'GET', route: '/users/:id', status_class: '2xx' })).toBe(3);
    expect(count({ method: 'POST', route: '/users', status_class: '2xx' })).toBe(1);
    expect(count({ method: 'GET', route: '/boom', status_class: '5xx' })).toBe(1);
    expect(count({ method: 'GET', route: '/v1/items/:itemId', status_class: '2xx' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(2);
    expect(valueOf(parsed, 'http_request_duration_seconds_bucket', { route: '/users/:id', le: '+Inf' })).toBe(3);
    // The histogram's _count is the request count: no second family says it again.
    expect(parsed.samples.some((s) => s.name === 'http_requests_total')).toBe(false);
    const routes = new Set(
      parsed.samples.filter((s) => s.name === 'http_request_duration_seconds_count').map((s) => s.labels.route),
    );
    expect([...routes].sort()).toEqual(['/boom', '/users', '/users/:id', '/v1/items/:itemId', 'unmatched']);
    expect(response.body).not.toContain('/users/1');
  });

  it('serves /metrics over a real listening socket', async () => {
    const collector = new MetricsCollector();
    collector.counter({ name: 'jobs_done_total', help: 'Jobs' }).inc({}, 4);
    const fastify = await app({ collector, path: '/_metrics', unmatchedRoute: '__none__' });
    const address = await fastify.listen({ port: 0, host: '127.0.0.1' });
    await fetch(`${address}/users/9`);
    await fetch(`${address}/missing`);
    const text = await (await fetch(`${address}/_metrics`)).text();
    const parsed = parsePrometheus(text);
    expect(valueOf(parsed, 'jobs_done_total')).toBe(4);
    expect(valueOf(parsed, 'http_request_duration_seconds_count', { route: '/users/:id' })).toBe(1);
    expect(valueOf(parsed, 'http_request_duration_seconds_count', { route: '__none__' })).toBe(1);
    expect(valueOf(parsed, 'http_request_duration_seconds_count', { route: '/_metrics' })).toBeUndefined();
  });

  it('captures 5xx errors with scrubbed request context in the error monitor', async () => {
    const events: ErrorEvent[] = [];
    const errorMonitor = new ErrorMonitor({ transports: [{ name: 'memory', send: (e) => void events.push(e) }] });
    const fastify = await app({ collector: new MetricsCollector(), errorMonitor });
    await fastify.inject({ url: '/boom?api_key=k-1', headers: { authorization: 'Bearer t-1', cookie: 's=1' } });
    await fastify.inject('/users/1');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      domain: 'http',
      tags: { method: 'GET', route: '/boom', status: '500' },
      error: { message: 'exploded with token=[REDACTED]' },
      context: {
        request: {
          method: 'GET',
          url: '/boom?api_key=[REDACTED]',
          headers: { authorization: '[REDACTED]', cookie: '[REDACTED]' },
        },
      },
    });
  });

  it('captures only what the error handler answered with a 5xx', async () => {
    const events: ErrorEvent[] = [];
    const errorMonitor = new ErrorMonitor({ transports: [{ name: 'memory', send: (e) => void events.push(e) }] });
    const fastify = Fastify();
    apps.push(fastify);
    await fastify.register(metricsPlugin, { collector: new MetricsCollector(), errorMonitor });
    // An application error handler that maps coded errors (no statusCode) to their status.
    fastify.setErrorHandler((error: Error & { code?: string }, _request, reply) => {
      void reply.code(error.code === 'CHALLENGE_NOT_FOUND' ? 404 : 500).send({ code: error.code ?? 'INTERNAL' });
    });
    fastify.get('/missing-challenge', () => {
      throw Object.assign(new Error('no such challenge'), { code: 'CHALLENGE_NOT_FOUND' });
    });
    fastify.get('/crash', () => {
      throw new Error('database exploded');
    });
    expect((await fastify.inject('/missing-challenge')).statusCode).toBe(404);
    expect((await fastify.inject('/crash')).statusCode).toBe(500);
    expect(events.map((e) => e.error.message)).toEqual(['database exploded']);
  });

  it('can run without the endpoint or without recording, and validates options', async () => {
    const collector = new MetricsCollector();
    const quiet = await app({ collector, path: false });
    expect((await quiet.inject('/metrics')).statusCode).toBe(404);
    const bare = Fastify();
    apps.push(bare);
    await expect(bare.register(metricsPlugin, { path: 'metrics' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'path',
    });
    const other = new MetricsCollector();
    const noHttp = await app({ collector: other, recordHttp: false });
    await noHttp.inject('/users/1');
    expect(other.has('http_request_duration_seconds')).toBe(false);
  });
});
