import Fastify from 'fastify';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptVersionStrategy, normalizeVersionRange } from './accept-version-strategy.js';
import { apiVersionPlugin } from './api-version-plugin.js';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import { paginationPlugin } from './pagination-plugin.js';

const v1: FastifyPluginAsync = async (app) => {
  app.get('/challenges', async (request, reply) => reply.paginated([{ id: 1, name: 'old' }], 30));
  app.get('/challenges/:id', async (request) => ({ version: request.apiVersion, shape: 'v1' }));
  app.get('/boom', async () => {
    throw Object.assign(new Error('gone'), { code: 'CHALLENGE_NOT_FOUND' });
  });
};
const v2: FastifyPluginAsync = async (app) => {
  app.get('/challenges/:id', async (request) => ({ version: request.apiVersion, shape: 'v2' }));
};

const deprecation = {
  deprecatedAt: '2025-01-01T00:00:00Z',
  sunset: '2026-06-30T00:00:00Z',
  successor: '/v2/challenges',
  policy: 'https://example.com/deprecations/v1',
};

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(constraints?: { defaultVersion?: string }): Promise<FastifyInstance> {
  app =
    constraints === undefined
      ? Fastify({ logger: false })
      : Fastify({ logger: false, constraints: { version: acceptVersionStrategy(constraints) } });
  await app.register(errorHandlerPlugin);
  await app.register(paginationPlugin);
  await app.register(apiVersionPlugin, { version: '1.4.0', routes: v1, header: true, deprecation });
  await app.register(apiVersionPlugin, { version: '2.0.0', routes: v2, header: true });
  app.get('/health', async () => ({ ok: true }));
  return app;
}

describe('apiVersionPlugin: URL prefix', () => {
  it('serves each version under /v<major>', async () => {
    const instance = await build();
    expect((await instance.inject('/v1/challenges/7')).json()).toEqual({ version: '1.4.0', shape: 'v1' });
    expect((await instance.inject('/v2/challenges/7')).json()).toEqual({ version: '2.0.0', shape: 'v2' });
    const missing = await instance.inject('/v3/challenges/7');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('marks the deprecated version on success, error and paginated responses', async () => {
    const instance = await build();
    const ok = await instance.inject('/v1/challenges/7');
    expect(ok.headers.deprecation).toBe('@1735689600');
    expect(ok.headers.sunset).toBe('Tue, 30 Jun 2026 00:00:00 GMT');
    expect(ok.headers.link).toBe(
      '</v2/challenges>; rel="successor-version", <https://example.com/deprecations/v1>; rel="deprecation"',
    );
    expect(ok.headers['api-version']).toBe('1.4.0');

    const error = await instance.inject('/v1/boom');
    expect(error.statusCode).toBe(404);
    expect(error.headers.deprecation).toBe('@1735689600');

    const list = await instance.inject('/v1/challenges?page=1&limit=10');
    const link = list.headers.link as string;
    expect(link).toContain('</v1/challenges?page=2&limit=10>; rel="next"');
    expect(link).toContain('</v2/challenges>; rel="successor-version"');

    const current = await instance.inject('/v2/challenges/7');
    expect(current.headers.deprecation).toBeUndefined();
    expect(current.headers.sunset).toBeUndefined();
    expect(current.headers['api-version']).toBe('2.0.0');
  });
});

describe("apiVersionPlugin: Accept-Version with Fastify's built-in strategy", () => {
  it.each([
    ['1.x', 'v1'],
    ['1.4.0', 'v1'],
    ['2.x', 'v2'],
    ['*', 'v2'],
  ])('Accept-Version: %s -> %s', async (header, shape) => {
    const instance = await build();
    const response = await instance.inject({ url: '/challenges/7', headers: { 'accept-version': header } });
    expect(response.statusCode).toBe(200);
    expect(response.json<{ shape: string }>().shape).toBe(shape);
    expect(response.headers.vary).toContain('Accept-Version');
    expect(response.headers.deprecation === undefined).toBe(shape === 'v2');
  });

  it('answers an unknown version or a missing header with a 404 problem', async () => {
    const instance = await build();
    const unknown = await instance.inject({ url: '/challenges/7', headers: { 'accept-version': '3.x' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({
      code: 'NOT_FOUND',
      detail: 'No route for GET /challenges/7 with Accept-Version "3.x"',
    });
    expect((await instance.inject('/challenges/7')).statusCode).toBe(404);
  });
});

describe('acceptVersionStrategy', () => {
  it('normalizes the forms clients send', () => {
    expect(normalizeVersionRange('v2')).toBe('2.x');
    expect(normalizeVersionRange('2')).toBe('2.x');
    expect(normalizeVersionRange('2.1')).toBe('2.1.x');
    expect(normalizeVersionRange('02.1.3')).toBe('2.1.3');
    expect(normalizeVersionRange('*')).toBe('*');
    expect(normalizeVersionRange('2.x.1')).toBeUndefined();
    expect(normalizeVersionRange('latest')).toBeUndefined();
    expect(normalizeVersionRange('')).toBeUndefined();
    expect(() => normalizeVersionRange(2 as never)).toThrow(/Invalid option "value": expected a string, got 2/);
  });

  it('serves the default version without a header and accepts "1" / "v2"', async () => {
    const instance = await build({ defaultVersion: '1' });
    expect((await instance.inject('/challenges/7')).json<{ shape: string }>().shape).toBe('v1');
    const one = await instance.inject({ url: '/challenges/7', headers: { 'accept-version': '1' } });
    expect(one.json<{ shape: string }>().shape).toBe('v1');
    const two = await instance.inject({ url: '/challenges/7', headers: { 'accept-version': 'v2' } });
    expect(two.json<{ shape: string }>().shape).toBe('v2');
    expect(
      (await instance.inject({ url: '/challenges/7', headers: { 'accept-version': 'nonsense' } })).statusCode,
    ).toBe(404);
    expect((await instance.inject({ url: '/challenges/7', headers: { 'accept-version': '9' } })).statusCode).toBe(404);
  });

  it('keeps unversioned routes reachable whatever Accept-Version says', async () => {
    const instance = await build({ defaultVersion: '2' });
    expect((await instance.inject({ url: '/health', headers: { 'accept-version': '1' } })).statusCode).toBe(200);
    expect((await instance.inject('/health')).statusCode).toBe(200);
    expect((await instance.inject('/v1/challenges/1')).statusCode).toBe(200);
  });

  it('refuses bad options', () => {
    expect(() => acceptVersionStrategy({ defaultVersion: 'latest' })).toThrow(/Invalid option "defaultVersion"/);
  });
});

describe('apiVersionPlugin options', () => {
  it.each([
    [{ version: '1', routes: v1 }, 'version'],
    [{ version: '1.0.0', routes: 'nope' }, 'routes'],
    [{ version: '1.0.0', routes: v1, urlPrefix: 'v1' }, 'urlPrefix'],
    [{ version: '1.0.0', routes: v1, urlPrefix: false }, 'urlPrefix'],
    [{ version: '1.0.0', routes: v1, deprecation: { deprecatedAt: 'never' } }, 'deprecation.deprecatedAt'],
    [
      { version: '1.0.0', routes: v1, deprecation: { deprecatedAt: '2025-02-01', sunset: '2025-01-01' } },
      'deprecation.sunset',
    ],
  ])('refuses %j at start naming %s', async (options, option) => {
    app = Fastify({ logger: false });
    void app.register(apiVersionPlugin, options as never);
    await expect(app.ready()).rejects.toMatchObject({ code: 'INVALID_OPTION', option });
  });

  it('supports header-only routing and a custom prefix', async () => {
    app = Fastify({ logger: false });
    await app.register(apiVersionPlugin, { version: '3.0.0', routes: v2, urlPrefix: false, header: true });
    await app.register(apiVersionPlugin, { version: '4.0.0', routes: v2, urlPrefix: '/api/v4' });
    expect((await app.inject({ url: '/challenges/1', headers: { 'accept-version': '3.x' } })).statusCode).toBe(200);
    expect((await app.inject('/v3/challenges/1')).statusCode).toBe(404);
    expect((await app.inject('/api/v4/challenges/1')).json()).toEqual({ version: '4.0.0', shape: 'v2' });
  });
});
