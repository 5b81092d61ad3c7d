import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createCursorCodec } from '../cursor-codec.js';
import { createCursorPagination, cursorPage } from '../cursor-pagination.js';
import { createPagination } from '../pagination.js';
import { paginatedEnvelopeSchema, paginationQuerySchema } from '../schemas.js';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import { httpRequest } from '../../test/http-client.js';
import { paginationPlugin } from './pagination-plugin.js';
import type { PaginationPluginOptions } from './pagination-plugin.js';

const challenges = Array.from({ length: 45 }, (_, i) => ({ id: i + 1, title: `Challenge ${i + 1}` }));
const challengeService = {
  listChallenges: async ({ offset, limit }: { offset: number; limit: number }) => ({
    data: challenges.slice(offset, offset + limit),
    total: challenges.length,
  }),
};

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(options: PaginationPluginOptions = {}): Promise<FastifyInstance> {
  app = Fastify({ logger: false });
  await app.register(errorHandlerPlugin);
  await app.register(paginationPlugin, options);
  // The documented controller, with Fastify's reply in place of Express's res.json.
  app.get('/documented', async (req, reply) => {
    const { page, limit } = req.query as { page?: string; limit?: string };
    const pagination = createPagination({ page, limit });
    const { data, total } = await challengeService.listChallenges(pagination);
    return reply.send({
      success: true,
      data,
      meta: { page: pagination.page, limit: pagination.limit, total, totalPages: Math.ceil(total / pagination.limit) },
    });
  });
  app.get('/challenges', async (request, reply) => {
    const { data, total } = await challengeService.listChallenges(request.pagination);
    return reply.paginated(data, total);
  });
  app.get(
    '/validated',
    {
      schema: {
        querystring: paginationQuerySchema({ maxLimit: 50 }),
        response: { 200: paginatedEnvelopeSchema({ type: 'object', properties: { id: { type: 'integer' } } }) },
      },
    },
    async (request, reply) => {
      const { data, total } = await challengeService.listChallenges(request.pagination);
      return reply.paginated(data, total);
    },
  );
  return app;
}

describe('paginationPlugin', () => {
  it('serves the documented controller over Fastify', async () => {
    const instance = await build();
    const response = await instance.inject('/documented?page=2&limit=20');
    expect(response.json()).toEqual({
      success: true,
      data: challenges.slice(20, 40),
      meta: { page: 2, limit: 20, total: 45, totalPages: 3 },
    });
    const bad = await instance.inject('/documented?page=abc');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'INVALID_PAGINATION',
      detail: 'Invalid "page": expected a positive integer, got "abc"',
    });
  });

  it('decorates request.pagination and reply.paginated with Link headers', async () => {
    const instance = await build();
    const response = await instance.inject('/challenges?page=2&limit=10&sort=title');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ success: true, meta: { page: 2, limit: 10, total: 45, totalPages: 5 } });
    expect(response.json<{ data: { id: number }[] }>().data.map((c) => c.id)).toEqual([
      11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ]);
    expect(response.headers.link).toBe(
      [
        '</challenges?page=1&limit=10&sort=title>; rel="first"',
        '</challenges?page=1&limit=10&sort=title>; rel="prev"',
        '</challenges?page=3&limit=10&sort=title>; rel="next"',
        '</challenges?page=5&limit=10&sort=title>; rel="last"',
      ].join(', '),
    );
  });

  it.each(['page=-1', 'page=1.5', 'limit=0', 'limit=101', 'page=1&page=2'])(
    'answers ?%s with a 400 INVALID_PAGINATION problem',
    async (query) => {
      const instance = await build();
      const response = await instance.inject(`/challenges?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.json()).toMatchObject({ code: 'INVALID_PAGINATION', status: 400 });
    },
  );

  it('applies the plugin options: caps, clamping, absolute links, no links', async () => {
    const clamped = await build({ maxLimit: 5, overLimit: 'clamp', baseUrl: 'https://api.example.com' });
    const response = await clamped.inject('/challenges?limit=50');
    expect(response.json()).toMatchObject({ meta: { limit: 5, totalPages: 9 } });
    expect(response.headers.link).toContain('<https://api.example.com/challenges?limit=5&page=2>; rel="next"');
    await clamped.close();
    const quiet = await build({ links: false });
    expect((await quiet.inject('/challenges')).headers.link).toBeUndefined();
  });

  it('refuses bad plugin options at start', async () => {
    app = Fastify({ logger: false });
    void app.register(paginationPlugin, { baseUrl: 'https://api.example.com/v1' });
    await expect(app.ready()).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'baseUrl' });
  });

  it('works with a schema-validated query (coerced numbers) and response serializer', async () => {
    const instance = await build();
    const ok = await instance.inject('/validated?page=5&limit=10');
    expect(ok.json()).toMatchObject({
      data: [{ id: 41 }, { id: 42 }, { id: 43 }, { id: 44 }, { id: 45 }],
      meta: { page: 5, total: 45 },
    });
    const over = await instance.inject('/validated?limit=60');
    expect(over.json()).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ in: 'querystring', pointer: '/limit' }],
    });
  });

  it('sends keyset pages with a next link that a client can follow to the end, over a real socket', async () => {
    const instance = await build();
    const codec = createCursorCodec<number>({ secret: 'pagination-plugin-test-secret' });
    instance.get('/feed', async (request, reply) => {
      const pagination = createCursorPagination(request.query as Record<string, unknown>, { codec, defaultLimit: 20 });
      const start = pagination.after ?? 0;
      const rows = challenges.filter((c) => c.id > start).slice(0, pagination.fetchLimit);
      return reply.cursorPaginated(
        cursorPage(rows, pagination, (row) => row.id),
        pagination.limit,
      );
    });
    const address = await instance.listen({ port: 0, host: '127.0.0.1' });
    const ids: number[] = [];
    let next: string | undefined = '/feed?limit=20';
    while (next !== undefined) {
      const response = await httpRequest(address + next);
      expect(response.status).toBe(200);
      const body = JSON.parse(response.body) as { data: { id: number }[]; meta: { hasMore: boolean } };
      ids.push(...body.data.map((c) => c.id));
      const link = response.headers.link as string | undefined;
      expect(link === undefined).toBe(!body.meta.hasMore);
      next = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    }
    expect(ids).toEqual(challenges.map((c) => c.id));

    const valid = codec.encode(3);
    const dot = valid.indexOf('.');
    // Every character of the signature: the middle ones carry 6 bits of it, the last one only 4
    // (its other 2 bits are unused, and a cursor that changes only them is not canonical).
    for (const at of [dot + 1, dot + 20, valid.length - 1]) {
      const swapped = valid[at] === 'A' ? 'B' : 'A';
      const forged = valid.slice(0, at) + swapped + valid.slice(at + 1);
      const tampered = await httpRequest(`${address}/feed?cursor=${forged}`);
      expect(tampered.status).toBe(400);
      expect(JSON.parse(tampered.body)).toMatchObject({ code: 'INVALID_CURSOR' });
    }
  });
});
