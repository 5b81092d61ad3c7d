// Page-number pagination with @infra/api in a Fastify route: bad `page`/`limit` values are refused
// with a coded error (INVALID_PAGINATION) instead of reaching the database.
import Fastify from 'fastify';
import { createPagination, isApiError } from '@infra/api';

// A stand-in for a service reading a table of 45 challenges.
const challenges = Array.from({ length: 45 }, (_, index) => ({ id: index + 1, title: `Challenge ${index + 1}` }));
const challengeService = {
  /** @param {{ limit: number, offset: number }} pagination */
  async listChallenges({ limit, offset }) {
    return { data: challenges.slice(offset, offset + limit), total: challenges.length };
  },
};

/** @param {{ query: { page?: string, limit?: string } }} req */
async function listChallenges(req) {
  const { page, limit } = req.query;
  const pagination = createPagination({ page, limit });
  const { data, total } = await challengeService.listChallenges(pagination);
  return {
    success: true,
    data,
    meta: { page: pagination.page, limit: pagination.limit, total, totalPages: Math.ceil(total / pagination.limit) },
  };
}

const app = Fastify();
app.get('/v1/challenges', (request) => listChallenges({ query: /** @type {any} */ (request.query) }));
app.setErrorHandler((error, _request, reply) => {
  if (isApiError(error)) return reply.code(400).send({ success: false, code: error.code, message: error.message });
  return reply.code(500).send({ success: false, message: 'Internal error' });
});

const page = await app.inject({ url: '/v1/challenges?page=3&limit=20' });
console.log(page.statusCode, page.json().meta, `${page.json().data.length} items`);
const bad = await app.inject({ url: '/v1/challenges?page=0' });
console.log(bad.statusCode, bad.json());
await app.close();
