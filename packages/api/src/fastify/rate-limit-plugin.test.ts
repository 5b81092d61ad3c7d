import { MemoryRateLimiterStore, RateLimiter } from '@infra/resilience';
import { RedisRateLimiterStore } from '@infra/resilience/redis';
import { redisUrl, uniqueName } from '@infra/test-utils';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../errors.js';
import { rateLimitHeaderValues } from '../rate-limit-headers.js';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import { rateLimitPlugin, type RateLimitPluginOptions } from './rate-limit-plugin.js';
import { registrationError } from '../../test/plugin-registration.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(
  options: RateLimitPluginOptions,
  fastifyOptions: { trustProxy?: boolean } = {},
): Promise<FastifyInstance> {
  app = Fastify({ logger: false, ...fastifyOptions });
  await app.register(errorHandlerPlugin);
  await app.register(async (limited) => {
    await limited.register(rateLimitPlugin, options);
    limited.post('/limited', async (_request, reply) => reply.code(201).send({ ok: true }));
    limited.get('/fails', async () => {
      throw Object.assign(new Error('nope'), { code: 'NOT_FOUND' });
    });
  });
  app.get('/free', async () => ({ ok: true }));
  await app.ready();
  return app;
}

/** A memory limiter on a clock the test moves. */
function limiter(algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket', clock: { now: number }) {
  return new RateLimiter({
    name: 'default',
    limit: 3,
    windowMs: 60_000,
    algorithm,
    store: new MemoryRateLimiterStore({ now: () => clock.now }),
  });
}

describe('rateLimitPlugin', () => {
  it('puts RateLimit-Policy and RateLimit on every answer, and refuses with a 429 problem + Retry-After', async () => {
    // 42 s into a fixed 60 s window: 18 s are left.
    const clock = { now: 60_000 * 1000 + 42_000 };
    const instance = await build({ limiter: limiter('fixed-window', clock) });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await instance.inject({ method: 'POST', url: '/limited' });
      expect(response.statusCode).toBe(201);
      expect(response.headers['ratelimit-policy']).toBe('"default";q=3;w=60');
      seen.push(String(response.headers.ratelimit));
    }
    expect(seen).toEqual(['"default";r=2;t=18', '"default";r=1;t=18', '"default";r=0;t=18']);

    const refused = await instance.inject({ method: 'POST', url: '/limited?secret=1' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(refused.headers['retry-after']).toBe('18');
    expect(refused.headers['ratelimit-policy']).toBe('"default";q=3;w=60');
    expect(refused.headers.ratelimit).toBe('"default";r=0;t=18');
    expect(refused.json()).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      instance: '/limited',
      retryAfterMs: 18_000,
    });

    // Errors of the limited routes carry the fields too; routes outside the context do not count.
    clock.now += 18_000;
    const failed = await instance.inject('/fails');
    expect(failed.statusCode).toBe(404);
    expect(failed.headers.ratelimit).toBe('"default";r=2;t=60');
    const free = await instance.inject('/free');
    expect(free.headers.ratelimit).toBeUndefined();
  });

  it('never announces a reset beyond the window with a sliding window', async () => {
    const clock = { now: 60_000 * 2000 + 15_000 };
    const instance = await build({ limiter: limiter('sliding-window', clock) });
    const response = await instance.inject({ method: 'POST', url: '/limited' });
    // The limiter's own resetMs is 105 s (the previous window's share decays until then).
    expect(response.headers.ratelimit).toBe('"default";r=2;t=45');
  });

  it('keys on the client address, honouring trustProxy, or on a key function', async () => {
    const clock = { now: 60_000 * 3000 };
    const behindProxy = await build({ limiter: limiter('fixed-window', clock) }, { trustProxy: true });
    const fromA = { method: 'POST' as const, url: '/limited', headers: { 'x-forwarded-for': '203.0.113.1' } };
    const fromB = { method: 'POST' as const, url: '/limited', headers: { 'x-forwarded-for': '203.0.113.2' } };
    for (let i = 0; i < 3; i++) expect((await behindProxy.inject(fromA)).statusCode).toBe(201);
    expect((await behindProxy.inject(fromA)).statusCode).toBe(429);
    expect((await behindProxy.inject(fromB)).statusCode).toBe(201);
    await behindProxy.close();

    // Without trustProxy the forwarded header is ignored: both count against the proxy's address.
    const direct = await build({ limiter: limiter('fixed-window', { now: 60_000 * 3001 }) });
    for (let i = 0; i < 3; i++) expect((await direct.inject(i % 2 === 0 ? fromA : fromB)).statusCode).toBe(201);
    expect((await direct.inject(fromB)).statusCode).toBe(429);
    await direct.close();

    const byUser = await build({
      limiter: limiter('fixed-window', { now: 60_000 * 3002 }),
      key: (request) => String(request.headers['x-user'] ?? 'anonymous'),
    });
    for (let i = 0; i < 3; i++) {
      expect((await byUser.inject({ method: 'POST', url: '/limited', headers: { 'x-user': 'u1' } })).statusCode).toBe(
        201,
      );
    }
    expect((await byUser.inject({ method: 'POST', url: '/limited', headers: { 'x-user': 'u2' } })).statusCode).toBe(
      201,
    );
  });

  it('shares one budget between two app instances through the Redis store', async () => {
    const prefix = `${uniqueName('api-rl')}:`;
    // A busy machine may take longer than the production bounds (250 ms) to connect and answer:
    // this test is about the shared budget, not about those bounds.
    const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };
    const store = new RedisRateLimiterStore({ connection: redisUrl, prefix, ...patient });
    const shared = new RateLimiter({
      name: 'shared',
      limit: 2,
      windowMs: 60_000,
      algorithm: 'fixed-window',
      store,
      storeTimeoutMs: 30_000,
    });
    const one = Fastify({ logger: false });
    const two = Fastify({ logger: false });
    try {
      for (const instance of [one, two]) {
        await instance.register(rateLimitPlugin, { limiter: shared, key: () => 'client' });
        instance.get('/', async () => 'ok');
      }
      expect((await one.inject('/')).statusCode).toBe(200);
      expect((await two.inject('/')).statusCode).toBe(200);
      const refused = await one.inject('/');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      await shared.reset('client');
    } finally {
      await one.close();
      await two.close();
      await store.close();
    }
  });

  it('refuses bad options with INVALID_OPTION naming the value', async () => {
    const bad: unknown[] = [
      { limiter: {} },
      { limiter: limiter('fixed-window', { now: 0 }), cost: 0 },
      { limiter: limiter('fixed-window', { now: 0 }), policyName: 'has space' },
      { limiter: limiter('fixed-window', { now: 0 }), key: 'ip' },
    ];
    for (const options of bad) {
      expect(isApiError(await registrationError(rateLimitPlugin, options), 'INVALID_OPTION')).toBe(true);
    }
    expect(() =>
      rateLimitHeaderValues('a b', { algorithm: 'fixed-window', limit: 1, windowMs: 1000 }, {} as never),
    ).toThrow(/"policyName".*"a b"/);
  });
});
