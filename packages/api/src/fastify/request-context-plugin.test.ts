import { AsyncLocalStorage } from 'node:async_hooks';
import { startSpan, tracerFor } from '@infra/core';
import { startTestTracing } from '@infra/test-utils/tracing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../errors.js';
import { currentRequestContext, requestIdFrom } from '../request-context.js';
import { registrationError } from '../../test/plugin-registration.js';
import { requestContextPlugin, requestIdServerOptions, type RequestContextOptions } from './request-context-plugin.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const uuid = /^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/;

async function build(options: RequestContextOptions = {}) {
  const app = Fastify({ logger: false, ...requestIdServerOptions() });
  apps.push(app);
  await app.register(requestContextPlugin, options);
  // A body, so that the handler runs after body parsing (socket events, outside the onRequest call).
  app.post('/echo', async (request) => {
    await new Promise((resolve) => setImmediate(resolve));
    return { id: request.id, context: currentRequestContext()?.requestId, body: request.body };
  });
  await app.ready();
  return app;
}

describe('requestContextPlugin', () => {
  it('takes a usable x-request-id, echoes it, and exposes it to the handler after the body is read', async () => {
    const app = await build();
    // Over a real socket: the body arrives in socket events of its own.
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`${url}/echo`, {
      method: 'POST',
      headers: { 'x-request-id': 'req-42', 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(await response.json()).toEqual({ id: 'req-42', context: 'req-42', body: { a: 1 } });
    expect(currentRequestContext()).toBeUndefined();
  });

  it('makes a new UUID when the header is missing or unusable', async () => {
    const app = await build();
    for (const header of [undefined, '', 'x'.repeat(201), 'bad id', 'tab\there']) {
      const response = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: header === undefined ? {} : { 'x-request-id': header },
        payload: {},
      });
      const body = response.json<{ id: string; context: string }>();
      expect(body.id).toMatch(uuid);
      expect(body.context).toBe(body.id);
      expect(response.headers['x-request-id']).toBe(body.id);
    }
    expect(requestIdFrom(['first', 'second'])).toBe('first');
  });

  it('runs the request inside the ambient context `enter` sets up', async () => {
    const ambient = new AsyncLocalStorage<string>();
    const app = Fastify({ logger: false, ...requestIdServerOptions('x-correlation-id') });
    apps.push(app);
    await app.register(requestContextPlugin, {
      header: 'X-Correlation-Id',
      enter: (context, next) => {
        ambient.run(`correlation ${context.requestId}`, next);
      },
    });
    app.post('/ambient', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return { ambient: ambient.getStore() };
    });
    const response = await app.inject({
      method: 'POST',
      url: '/ambient',
      headers: { 'x-correlation-id': 'c-7' },
      payload: { n: 1 },
    });
    expect(response.json()).toEqual({ ambient: 'correlation c-7' });
    expect(response.headers['x-correlation-id']).toBe('c-7');
  });

  it('reads the trace ids from the active OpenTelemetry context', async () => {
    const tracing = startTestTracing();
    try {
      const app = Fastify({ logger: false, ...requestIdServerOptions() });
      apps.push(app);
      await app.register(requestContextPlugin);
      app.get('/trace', async () => {
        const outside = { traceId: currentRequestContext()?.traceId };
        const open = startSpan(tracerFor('request-context-test'), 'work');
        const inside = open.run(() => ({
          traceId: currentRequestContext()?.traceId,
          spanId: currentRequestContext()?.spanId,
        }));
        open.end();
        return { outside, inside, expected: open.span?.spanContext() };
      });
      const body = (await app.inject({ method: 'GET', url: '/trace' })).json<{
        outside: { traceId?: string };
        inside: { traceId: string; spanId: string };
        expected: { traceId: string; spanId: string };
      }>();
      expect(body.outside.traceId).toBeUndefined();
      expect(body.inside).toEqual({ traceId: body.expected.traceId, spanId: body.expected.spanId });
    } finally {
      await tracing.stop();
    }
  });

  it('refuses bad options with INVALID_OPTION naming them', async () => {
    const error = await registrationError(requestContextPlugin, { enter: 'yes' });
    expect(isApiError(error, 'INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain('enter');
    const header = await registrationError(requestContextPlugin, { header: '' });
    expect((header as Error).message).toContain('header');
    expect(() => requestIdServerOptions('')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
