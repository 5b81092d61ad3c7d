import { loadOptionalPeer } from '@infra/core';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError, missingPeer } from '../errors.js';
import { paginatedEnvelopeSchema, paginationQuerySchema, problemDetailsSchema } from '../schemas.js';
import { openApiPlugin } from './openapi-plugin.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('openApiPlugin', () => {
  it('documents routes from their schemas and serves the document and the UI', async () => {
    app = Fastify({ logger: false });
    await app.register(openApiPlugin, {
      info: { title: 'Challenges', version: '2.0.0' },
      document: { servers: [{ url: 'https://api.example.com' }] },
    });
    app.get(
      '/v1/challenges',
      {
        schema: {
          querystring: paginationQuerySchema(),
          response: {
            200: paginatedEnvelopeSchema({ type: 'object', properties: { id: { type: 'integer' } } }),
            400: problemDetailsSchema,
          },
        },
      },
      async () => ({ success: true, data: [], meta: { page: 1, limit: 20, total: 0, totalPages: 0 } }),
    );
    await app.ready();

    const document = app.swagger() as {
      openapi: string;
      info: { title: string };
      servers: unknown[];
      paths: Record<
        string,
        { get: { parameters: { name: string; in: string }[]; responses: Record<string, unknown> } }
      >;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('Challenges');
    expect(document.servers).toEqual([{ url: 'https://api.example.com' }]);
    const list = document.paths['/v1/challenges']!.get;
    expect(list.parameters.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['query:limit', 'query:page']);
    expect(Object.keys(list.responses).sort()).toEqual(['200', '400']);
    expect(document.components.schemas.ProblemDetails).toBeDefined();

    const json = await app.inject('/docs/json');
    expect(json.statusCode).toBe(200);
    expect(json.json<{ paths: object }>().paths).toHaveProperty('/v1/challenges');
    const ui = await app.inject('/docs/');
    expect([200, 302]).toContain(ui.statusCode);
  });

  it('refuses bad options at start', async () => {
    app = Fastify({ logger: false });
    void app.register(openApiPlugin, { routePrefix: 'docs' });
    await expect(app.ready()).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'routePrefix' });
  });
});

describe('optional peers', () => {
  it('turns a missing optional peer into MISSING_PEER naming the package', async () => {
    const name = '@infra/not-an-installed-package';
    let caught: unknown;
    try {
      await loadOptionalPeer(name, 'corsPlugin', () => import(name) as Promise<unknown>, missingPeer(name));
    } catch (error) {
      caught = error;
    }
    expect(isApiError(caught, 'MISSING_PEER')).toBe(true);
    if (!isApiError(caught, 'MISSING_PEER')) return;
    expect(caught.packageName).toBe(name);
    expect(caught.message).toContain('corsPlugin');
    expect(caught.message).toContain('npm install @infra/not-an-installed-package');
    expect(caught.cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('rethrows other failures untouched', async () => {
    const failure = new Error('syntax error in peer');
    await expect(loadOptionalPeer('x', 'y', () => Promise.reject(failure), missingPeer('x'))).rejects.toBe(failure);
  });
});
