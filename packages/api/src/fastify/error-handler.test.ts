import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import {
  BulkheadFullError,
  CircuitBreaker,
  InvalidOptionError,
  RateLimitedError,
  TimeoutError,
} from '@infra/resilience';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { paginationQuerySchema } from '../schemas.js';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import type { ErrorHandlerOptions } from './error-handler-plugin.js';

function coded(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code }, extra);
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app whose `/throw/:name` throws what {@link register} registered under that name. */
async function create(options: ErrorHandlerOptions = {}): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false });
  await instance.register(errorHandlerPlugin, options);
  const throwing = new Map<string, () => unknown>();
  instance.get('/throw/:name', async (request) => {
    const { name } = request.params as { name: string };
    const make = throwing.get(name);
    if (make === undefined) throw new Error(`test has no error "${name}"`);
    throw make();
  });
  instance.decorate('throwing', throwing);
  return instance;
}

/** {@link create}, closed after the test. */
async function build(options: ErrorHandlerOptions = {}): Promise<FastifyInstance> {
  app = await create(options);
  return app;
}

function register(instance: FastifyInstance, name: string, make: () => unknown): void {
  (instance as unknown as { throwing: Map<string, () => unknown> }).throwing.set(name, make);
}

describe('errorHandlerPlugin: the status table', () => {
  const cases: [name: string, status: number, code: string, make: () => unknown, retryAfter?: string][] = [
    [
      'circuit-open',
      503,
      'CIRCUIT_OPEN',
      () => coded('CIRCUIT_OPEN', 'Circuit "payments" is open', { retryAfterMs: 2500 }),
      '3',
    ],
    ['rate-limited', 429, 'RATE_LIMITED', () => new RateLimitedError('user:1', 10, 1200), '2'],
    ['timeout', 504, 'TIMEOUT', () => new TimeoutError(5000, 'Payment call')],
    ['bulkhead', 503, 'BULKHEAD_FULL', () => new BulkheadFullError(4, 0)],
    ['invalid-option', 400, 'INVALID_OPTION', () => new InvalidOptionError('limit', -1, 'an integer >= 1')],
    [
      'cache',
      503,
      'CACHE_UNAVAILABLE',
      () => coded('CACHE_UNAVAILABLE', 'Redis at 10.0.0.5:6379 refused the connection'),
    ],
    ['store', 503, 'STORE_UNAVAILABLE', () => coded('STORE_UNAVAILABLE', 'rate limiter store down')],
    ['auth', 502, 'AUTHENTICATION', () => coded('AUTHENTICATION', 'OpenAI rejected key sk-...abcd')],
    ['upstream', 502, 'UPSTREAM', () => coded('UPSTREAM', 'OpenAI answered 500')],
    ['not-found', 404, 'NOT_FOUND', () => coded('NOT_FOUND', 'No such thing')],
    ['suffix', 404, 'CHALLENGE_NOT_FOUND', () => coded('CHALLENGE_NOT_FOUND', 'Challenge 42 does not exist')],
    ['repository', 500, 'REPOSITORY_NOT_FOUND', () => coded('REPOSITORY_NOT_FOUND', 'No repository "acount"')],
    ['conflict', 409, 'EMAIL_ALREADY_EXISTS', () => coded('EMAIL_ALREADY_EXISTS', 'Taken')],
    ['pagination', 400, 'INVALID_PAGINATION', () => coded('INVALID_PAGINATION', 'Invalid "page"')],
    ['cursor', 400, 'INVALID_CURSOR', () => coded('INVALID_CURSOR', 'Invalid "cursor"')],
    ['db', 503, 'CONNECTION_FAILED', () => coded('CONNECTION_FAILED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['unknown-code', 500, 'INTERNAL_ERROR', () => coded('ECONNRESET', 'socket hang up')],
    ['plain', 500, 'INTERNAL_ERROR', () => new Error('boom')],
    ['http-error', 410, 'HTTP_410', () => Object.assign(new Error('Gone for good'), { statusCode: 410 })],
    ['thrown-string', 500, 'INTERNAL_ERROR', () => 'a string'],
  ];

  // One instance for the whole table: each case only adds its error.
  let instance: FastifyInstance;
  beforeAll(async () => {
    instance = await create({ production: false });
  });
  afterAll(async () => {
    await instance.close();
  });

  it.each(cases)('%s -> %i %s', async (name, status, code, make, retryAfter) => {
    register(instance, name, make);
    const response = await instance.inject({ method: 'GET', url: `/throw/${name}?token=secret` });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.headers['retry-after']).toBe(retryAfter);
    const body = response.json<Record<string, unknown>>();
    expect(body).toMatchObject({ type: 'about:blank', status, code, instance: `/throw/${name}` });
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    expect(typeof body.requestId).toBe('string');
    expect(JSON.stringify(body)).not.toContain('secret');
    if (retryAfter !== undefined) expect(body.retryAfterMs).toBeGreaterThan(0);
  });

  it('maps a real open circuit breaker to 503 with Retry-After from retryAfterMs', async () => {
    const instance = await build();
    // A stopped clock: the breaker's countdown must not depend on how fast the request runs.
    const breaker = new CircuitBreaker('payments', { resetTimeout: 30_000, now: () => 1_000_000 });
    breaker.open();
    instance.get('/pay', async () => breaker.execute(async () => 'paid'));
    const response = await instance.inject('/pay');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    const body = response.json<{ code: string; retryAfterMs: number }>();
    expect(body.code).toBe('CIRCUIT_OPEN');
    expect(body.retryAfterMs).toBe(30_000);
  });

  it('lets the application extend and override the table', async () => {
    const instance = await build({
      mappings: {
        CHALLENGE_EXPIRED: { status: 410, title: 'Challenge expired' },
        TIMEOUT: { status: 503, retryAfter: true },
      },
      suffixes: { _LOCKED: { status: 423 } },
      typeBaseUri: 'https://errors.example.com/',
    });
    register(instance, 'expired', () => coded('CHALLENGE_EXPIRED', 'Expired yesterday'));
    register(instance, 'locked', () => coded('ACCOUNT_LOCKED', 'Locked'));
    register(instance, 'timeout', () => Object.assign(new TimeoutError(100), { retryAfterMs: 1000 }));
    const expired = await instance.inject('/throw/expired');
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({
      type: 'https://errors.example.com/challenge-expired',
      title: 'Challenge expired',
    });
    expect((await instance.inject('/throw/locked')).statusCode).toBe(423);
    const timeout = await instance.inject('/throw/timeout');
    expect([timeout.statusCode, timeout.headers['retry-after']]).toEqual([503, '1']);
  });

  it('refuses a bad table at registration, naming the entry', async () => {
    app = Fastify({ logger: false });
    void app.register(errorHandlerPlugin, { mappings: { X: { status: 200 } } });
    await expect(app.ready()).rejects.toThrow(/"mappings\.X\.status"/);
  });
});

describe('errorHandlerPlugin: validation and 404', () => {
  it('answers Fastify validation errors with 400 and the failing fields', async () => {
    const instance = await build();
    instance.get('/items', { schema: { querystring: paginationQuerySchema() } }, async () => ({ ok: true }));
    instance.post(
      '/items',
      {
        schema: {
          body: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
        },
      },
      async () => ({ ok: true }),
    );
    const query = await instance.inject('/items?page=abc&limit=1000');
    expect(query.statusCode).toBe(400);
    expect(query.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const body = query.json<{ code: string; errors: { in: string; pointer: string }[] }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors[0]).toMatchObject({ in: 'querystring', pointer: '/page' });

    const missing = await instance.inject({ method: 'POST', url: '/items', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ in: 'body', pointer: '/name' }] });

    const badJson = await instance.inject({
      method: 'POST',
      url: '/items',
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const instance = await build();
    const response = await instance.inject({ method: 'DELETE', url: '/nope?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.json()).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      instance: '/nope',
      detail: 'No route for DELETE /nope',
    });
  });
});

describe('errorHandlerPlugin in production', () => {
  it('hides 5xx messages and never sends a stack', async () => {
    const instance = await build({ production: true });
    register(instance, 'internal', () => new Error('password=hunter2 at db-primary.internal:5432'));
    register(instance, 'circuit', () =>
      coded('CIRCUIT_OPEN', 'Circuit "payments-eu-west" is open', { retryAfterMs: 1000 }),
    );
    register(instance, 'auth', () => coded('AUTHENTICATION', 'Incorrect API key sk-live-123'));
    register(instance, 'rate', () => new RateLimitedError('ip:10.1.2.3', 5, 900));
    register(instance, 'client', () => coded('CHALLENGE_NOT_FOUND', 'Challenge 42 does not exist'));

    const internal = await instance.inject('/throw/internal');
    expect(internal.statusCode).toBe(500);
    expect(internal.json()).toMatchObject({ code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred.' });
    for (const name of ['internal', 'circuit', 'auth', 'rate']) {
      const text = (await instance.inject(`/throw/${name}`)).body;
      expect(text).not.toMatch(/hunter2|db-primary|payments-eu-west|sk-live|10\.1\.2\.3|\bat .*\.(ts|js):\d+/);
      expect(text).not.toContain('stack');
    }
    const client = await instance.inject('/throw/client');
    expect(client.json()).toMatchObject({ status: 404, detail: 'Challenge 42 does not exist' });
  });

  it('reads NODE_ENV when the option is not given', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const instance = await build();
      register(instance, 'internal', () => new Error('internal detail'));
      expect((await instance.inject('/throw/internal')).body).not.toContain('internal detail');
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('hides a driver message of a 5xx in every environment, and logs it with the request id', async () => {
    const lines: string[] = [];
    const instance = Fastify({
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } },
    });
    await instance.register(errorHandlerPlugin, { production: false });
    const driver = Object.assign(new Error('Query failed (22021): invalid byte sequence for encoding "UTF8": 0x00'), {
      code: 'QUERY_FAILED',
    });
    instance.get('/throw/driver', async () => {
      throw driver;
    });
    const response = await instance.inject('/throw/driver');
    expect(response.statusCode).toBe(500);
    const body = response.json<Record<string, unknown>>();
    expect(body).toMatchObject({ code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred.' });
    expect(response.body).not.toContain('22021');
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.err !== undefined);
    expect(logged).toMatchObject({ reqId: body.requestId, err: { message: driver.message } });
    await instance.close();
  });

  it('shows a 5xx message with exposeServerErrors outside production, still without a stack', async () => {
    const instance = await build({ production: false, exposeServerErrors: true });
    register(instance, 'internal', () => new Error('internal detail'));
    const body = (await instance.inject('/throw/internal')).json<Record<string, unknown>>();
    expect(body.detail).toBe('internal detail');
    expect(Object.keys(body)).not.toContain('stack');
  });
});
