import type { Logger } from '@infra/core';
import { logTarget, type PluginLoggerOption } from './log-target.js';
import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PROBLEM_CONTENT_TYPE, createProblemMapper } from '../problem-details.js';
import type { ProblemMapper, ProblemMapperOptions, ProblemResponse } from '../problem-details.js';
import { check } from '../errors.js';

export interface ErrorHandlerOptions extends ProblemMapperOptions, PluginLoggerOption {
  /**
   * Also answer unknown routes with a 404 `NOT_FOUND` problem.
   * @default true
   */
  notFound?: boolean;
}

/**
 * Answers every error of the application with an RFC 9457 problem (`application/problem+json`):
 * codes of the @infra packages and the application's own table map to statuses (CIRCUIT_OPEN ->
 * 503 + Retry-After, RATE_LIMITED -> 429 + Retry-After, ...), Fastify validation errors to 400 with
 * the failing fields, unknown routes to 404. In production 5xx details are generic; stacks never
 * leave the server (they go to the request log).
 */
export const errorHandlerPlugin: FastifyPluginCallback<ErrorHandlerOptions> = fp<ErrorHandlerOptions>(
  (app, options, done) => {
    const { notFound, logger, ...mapperOptions } = options;
    let map: ProblemMapper;
    let log: (request: FastifyRequest) => Logger;
    try {
      map = createProblemMapper(mapperOptions);
      check.boolean('notFound', notFound ?? true);
      log = logTarget(logger);
    } catch (error) {
      done(error as Error);
      return;
    }

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = map(error, context(request));
      if (problem.status >= 500) {
        log(request).error({ err: error, code: problem.body.code }, 'request failed');
      } else {
        log(request).info({ code: problem.body.code, status: problem.status }, error.message);
      }
      return sendProblem(reply, problem);
    });

    if (notFound !== false) {
      app.setNotFoundHandler((request, reply) => {
        const version = request.headers['accept-version'];
        const path = context(request).instance;
        const detail =
          `No route for ${request.method} ${path}` +
          (typeof version === 'string' ? ` with Accept-Version "${version}"` : '');
        return sendProblem(reply, map(Object.assign(new Error(detail), { code: 'NOT_FOUND' }), context(request)));
      });
    }
    done();
  },
  { name: '@infra/api/error-handler', fastify: '5.x' },
);

function context(request: FastifyRequest): { instance: string; requestId: string } {
  const query = request.url.indexOf('?');
  return { instance: query === -1 ? request.url : request.url.slice(0, query), requestId: request.id };
}

/** Sends a problem response built by a {@link ProblemMapper}. */
export function sendProblem(reply: FastifyReply, problem: ProblemResponse): FastifyReply {
  // Pre-serialized: a route's response schema for this status must not strip problem members.
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.body));
}
