import type { Logger } from '@infra/core';
import { logTarget, type PluginLoggerOption } from './log-target.js';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { InvalidOptionError, check } from '../errors.js';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../problem-details.js';
import { rateLimitHeaderValues, type RateLimitDecisionLike, type RateLimitRuleLike } from '../rate-limit-headers.js';
import { resolvePluginOptions } from './resolve-plugin-options.js';

/** What the plugin needs of a limiter: `RateLimiter` of `@infra/resilience` (memory or Redis store) fits. */
export interface RateLimiterLike {
  readonly name: string;
  readonly rule: RateLimitRuleLike;
  consume(key: string, cost?: number): Promise<RateLimitDecisionLike>;
}

export interface RateLimitPluginOptions extends PluginLoggerOption {
  /** The limiter that decides; its `rule` gives the quota and window of the header fields. */
  limiter: RateLimiterLike;
  /**
   * Name of the policy in `RateLimit-Policy` / `RateLimit`.
   * @default the limiter's `name`
   */
  policyName?: string;
  /**
   * The client a request counts against. The default is the client address as Fastify sees it:
   * behind a proxy, set Fastify's `trustProxy` so that `request.ip` is the forwarded address.
   * @default (request) => request.ip
   */
  key?: (request: FastifyRequest) => string | Promise<string>;
  /**
   * Units a request costs.
   * @default 1
   */
  cost?: number | ((request: FastifyRequest) => number);
  /**
   * Requests that neither count nor carry the header fields (e.g. health probes).
   * @default () => false
   */
  skip?: (request: FastifyRequest) => boolean;
}

/**
 * Rate limiting on an `@infra/resilience` limiter for the routes of the context it is registered in
 * (register it inside the plugin that holds the routes to limit, or at the root for every route).
 * Every answer carries `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers); a
 * refused request is answered before its handler runs with a 429 `RATE_LIMITED` problem and
 * `Retry-After`. A limiter whose store fails answers as its `onStoreError` says (a `STORE_UNAVAILABLE`
 * error goes to the error handler: 503).
 */
export const rateLimitPlugin: FastifyPluginCallback<RateLimitPluginOptions> = fp<RateLimitPluginOptions>(
  (app, options, done) => {
    const resolved = resolvePluginOptions(resolve, options, done);
    if (resolved === undefined) return;
    const { limiter, policyName, key, cost, skip, log } = resolved;

    app.addHook('onRequest', async (request, reply) => {
      if (skip(request)) return;
      const clientKey = await key(request);
      if (typeof clientKey !== 'string' || clientKey === '') {
        throw new InvalidOptionError('key', clientKey, 'the key function to return a non-empty string');
      }
      const decision = await limiter.consume(clientKey, cost(request));
      const values = rateLimitHeaderValues(policyName, limiter.rule, decision);
      appendHeader(reply, 'ratelimit-policy', values.policy);
      appendHeader(reply, 'ratelimit', values.limit);
      if (values.retryAfter === undefined) return;
      const body: ProblemDetails = {
        type: 'about:blank',
        title: 'Too Many Requests',
        status: 429,
        detail: `Rate limit of ${limiter.rule.limit} per ${limiter.rule.windowMs} ms reached; retry in ${values.retryAfter} s.`,
        instance: request.url.split('?', 1)[0],
        code: 'RATE_LIMITED',
        requestId: request.id,
        retryAfterMs: Math.ceil(decision.retryAfterMs),
      };
      log(request).info({ code: 'RATE_LIMITED', policy: policyName }, 'rate limited');
      return reply
        .code(429)
        .header('retry-after', String(values.retryAfter))
        .type(PROBLEM_CONTENT_TYPE)
        .send(JSON.stringify(body));
    });
    done();
  },
  { name: '@infra/api/rate-limit', fastify: '5.x' },
);

interface Resolved {
  limiter: RateLimiterLike;
  policyName: string;
  key: (request: FastifyRequest) => string | Promise<string>;
  cost: (request: FastifyRequest) => number;
  skip: (request: FastifyRequest) => boolean;
  log: (request: FastifyRequest) => Logger;
}

function resolve(options: RateLimitPluginOptions): Resolved {
  const o = check.plainObject('options', options) as Partial<RateLimitPluginOptions>;
  const candidate: unknown = o.limiter;
  const shape = (typeof candidate === 'object' && candidate !== null ? candidate : {}) as Record<string, unknown>;
  if (typeof shape.consume !== 'function' || typeof shape.rule !== 'object' || shape.rule === null) {
    throw new InvalidOptionError('limiter', candidate, 'a RateLimiter of @infra/resilience');
  }
  const limiter = candidate as RateLimiterLike;
  const policyName = check.nonEmptyString('policyName', o.policyName ?? limiter.name);
  // Checked once here rather than on the first request.
  rateLimitHeaderValues(policyName, limiter.rule, { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 });
  const key = check.optionalFn<Resolved['key']>('key', o.key) ?? ((request: FastifyRequest) => request.ip);
  let cost: Resolved['cost'];
  if (typeof o.cost === 'function') {
    cost = o.cost;
  } else {
    const fixed = check.integer('cost', o.cost ?? 1, 1);
    cost = () => fixed;
  }
  const skip = check.optionalFn<Resolved['skip']>('skip', o.skip) ?? (() => false);
  return { limiter, policyName, key, cost, skip, log: logTarget(o.logger) };
}

/** Two limiters in one context list both of their policies in one field, as the draft allows. */
function appendHeader(reply: FastifyReply, name: string, value: string): void {
  const existing = reply.getHeader(name);
  reply.header(name, existing === undefined ? value : `${String(existing)}, ${value}`);
}
