import {
  createPagination,
  formatLinkHeader,
  offsetPaginationLinks,
  type IdempotencyStore,
  type Pagination,
} from '@infra/api';
import { idempotencyPlugin, rateLimitPlugin } from '@infra/api/fastify';
import type { RateLimiter } from '@infra/resilience';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import type { Difficulty, NewChallenge } from './challenge.js';
import type { ChallengeGenerator } from './challenge-generator.js';
import {
  MAX_PAGE_SIZE,
  completeChallengeSchema,
  createChallengeSchema,
  deleteChallengeSchema,
  generateChallengeSchema,
  getChallengeSchema,
  listChallengesSchema,
  updateChallengeSchema,
} from './challenge-schemas.js';
import type { ChallengeService } from './challenge-service.js';

export interface ChallengeRoutesOptions {
  challengeService: ChallengeService;
  generator: ChallengeGenerator;
  /** Limits `POST /challenges/generate` per client address (`request.ip`: set `TRUST_PROXY` behind a proxy). */
  generateLimiter: RateLimiter;
  /** Keys of `Idempotency-Key` on `POST /challenges/:id/complete`. */
  idempotencyStore: IdempotencyStore;
  /** Counts generated challenges by source (metrics). */
  onGenerated?: (source: 'openai' | 'template') => void;
}

type IdParams = { Params: { id: string } };

/** The `/challenges` routes of API version 1. */
export function challengeRoutes(options: ChallengeRoutesOptions): FastifyPluginCallback {
  const { challengeService, generator, generateLimiter, idempotencyStore, onGenerated } = options;
  return (app, _options, done) => {
    app.get('/challenges', { schema: listChallengesSchema }, async (request, reply) => {
      const { page, limit } = request.query as { page?: number | string; limit?: number | string };

      // Create pagination parameters
      const pagination: Pagination = createPagination({ page, limit }, { maxLimit: MAX_PAGE_SIZE });

      // Get paginated results
      const { data, total } = await challengeService.listChallenges(pagination);

      const links = offsetPaginationLinks(request.url, { page: pagination.page, limit: pagination.limit, total });
      if (links.length > 0) reply.header('Link', formatLinkHeader(links));

      // Format paginated response
      return reply.send({
        success: true,
        data,
        meta: {
          page: pagination.page,
          limit: pagination.limit,
          total,
          totalPages: Math.ceil(total / pagination.limit),
        },
      });
    });

    app.get<IdParams>('/challenges/:id', { schema: getChallengeSchema }, async (request) => ({
      success: true,
      data: await challengeService.requireChallenge(request.params.id),
    }));

    app.post<{ Body: NewChallenge }>('/challenges', { schema: createChallengeSchema }, async (request, reply) => {
      const challenge = await challengeService.createChallenge(request.body);
      return reply
        .code(201)
        .header('Location', `${request.url}/${challenge.id}`)
        .send({ success: true, data: challenge });
    });

    app.patch<IdParams & { Body: Partial<NewChallenge> }>(
      '/challenges/:id',
      { schema: updateChallengeSchema },
      async (request) => ({
        success: true,
        data: await challengeService.updateChallenge(request.params.id, request.body),
      }),
    );

    app.delete<IdParams>('/challenges/:id', { schema: deleteChallengeSchema }, async (request, reply) => {
      await challengeService.deleteChallenge(request.params.id);
      return reply.code(204).send();
    });

    // A retried completion with the same Idempotency-Key is answered from the first one: the points
    // are credited once.
    void app.register(async (scope: FastifyInstance) => {
      await scope.register(idempotencyPlugin, { store: idempotencyStore, methods: ['POST'] });
      scope.post<IdParams & { Body: { userId: string; score: number } }>(
        '/challenges/:id/complete',
        { schema: completeChallengeSchema },
        async (request, reply) => {
          const completion = await challengeService.completeChallenge(
            request.params.id,
            request.body.userId,
            request.body.score,
          );
          return reply.code(201).send({ success: true, data: completion });
        },
      );
    });

    // Every answer of the generate route carries RateLimit-Policy / RateLimit; a spent budget is a 429.
    void app.register(async (scope: FastifyInstance) => {
      await scope.register(rateLimitPlugin, { limiter: generateLimiter });
      scope.post<{ Body: { topic: string; difficulty: Difficulty } }>(
        '/challenges/generate',
        { schema: generateChallengeSchema },
        async (request, reply) => {
          // A client that goes away stops the OpenAI call (and its retries) too.
          const abort = new AbortController();
          const onClose = (): void => {
            if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'));
          };
          reply.raw.once('close', onClose);
          try {
            const result = await generator.generate(
              { topic: request.body.topic, difficulty: request.body.difficulty },
              abort.signal,
            );
            const challenge = await challengeService.createChallenge(result.challenge, result.source);
            onGenerated?.(result.source);
            const meta =
              result.source === 'openai'
                ? { source: result.source, model: result.model }
                : { source: result.source, reason: result.reason };
            return await reply.code(201).send({ success: true, data: challenge, meta });
          } finally {
            reply.raw.off('close', onClose);
          }
        },
      );
    });
    done();
  };
}
