import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidOptionError, check } from '../errors.js';
import type { HealthCheckService } from '../health-check-service.js';
import { HEALTH_JSON_CONTENT_TYPE, httpStatusOf, toHealthJson, type HealthJsonServiceInfo } from '../health-json.js';
import type { HealthReport } from '../types.js';

/** Options of the {@link healthCheckController} Fastify plugin. */
export interface HealthPluginOptions {
  /** The checks to serve. */
  service: HealthCheckService;
  /** Path prefix of the routes. @default '/health' */
  prefix?: string;
  /**
   * When set, check details (names, outputs, observed values) are shown only to requests carrying
   * this token as `Authorization: Bearer <token>` or `x-health-token: <token>`; others get the
   * status alone. @default undefined (see `exposeDetails`)
   */
  detailToken?: string;
  /**
   * Without `detailToken`: whether every caller sees check details (names, outputs, observed values
   * such as pool usage). Off by default: a public probe answers with its status alone. Turn it on
   * only where the endpoint is not reachable from outside, or use `detailToken` / `allowDetails`.
   * @default false
   */
  exposeDetails?: boolean;
  /**
   * Decides per request who sees details (your own auth: a login, an IP allowlist, ...); wins
   * over `detailToken` and `exposeDetails` when set.
   * @default undefined
   */
  allowDetails?: (request: FastifyRequest) => boolean;
  /** Service-level fields of every response (`version`, `serviceId`, …). @default {} */
  info?: HealthJsonServiceInfo;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The health checks served by the `@infra/health/fastify` plugin. */
    healthCheckService: HealthCheckService;
  }
}

const plugin: FastifyPluginCallback<HealthPluginOptions> = (fastify, options, done) => {
  try {
    setup(fastify, options);
    done();
  } catch (error) {
    done(error as Error);
  }
};

function setup(fastify: FastifyInstance, options: HealthPluginOptions): void {
  const o = check.plainObject('options', options) as Partial<HealthPluginOptions>;
  const { service } = o;
  // Structural, not instanceof: the service may come from another installed copy of this package.
  if (!isService(service)) throw new InvalidOptionError('service', service, 'a HealthCheckService');
  const prefix = normalizePrefix(check.nonEmptyString('prefix', o.prefix ?? '/health'));
  const token = o.detailToken === undefined ? undefined : digest(check.nonEmptyString('detailToken', o.detailToken));
  const exposeDetails = check.boolean('exposeDetails', o.exposeDetails ?? false);
  const allowDetails = check.optionalFn<(request: FastifyRequest) => boolean>('allowDetails', o.allowDetails);
  const info = check.plainObject('info', o.info ?? {}) as HealthJsonServiceInfo;

  const detailed = (request: FastifyRequest): boolean => {
    if (allowDetails !== undefined) return allowDetails(request);
    if (token === undefined) return exposeDetails;
    const presented = bearer(request.headers.authorization) ?? single(request.headers['x-health-token']);
    return presented !== undefined && timingSafeEqual(digest(presented), token);
  };
  const send = (request: FastifyRequest, reply: FastifyReply, report: HealthReport): FastifyReply =>
    reply
      .code(httpStatusOf(report.status))
      .header('content-type', HEALTH_JSON_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send(JSON.stringify(toHealthJson(report, detailed(request), info)));

  fastify.decorate('healthCheckService', service);
  // Readiness fails as soon as the server begins to close, before it stops answering.
  fastify.addHook('preClose', (hookDone) => {
    service.beginShutdown();
    hookDone();
  });

  fastify.get(`${prefix}/live`, (request, reply) => send(request, reply, service.live()));
  fastify.get(`${prefix}/ready`, async (request, reply) => send(request, reply, await service.ready()));
  fastify.get(`${prefix}/startup`, async (request, reply) => send(request, reply, await service.startup()));
  fastify.get(prefix, async (request, reply) => send(request, reply, await service.run()));
}

// What fastify-plugin would set, without the dependency: share this context with the parent
// (so the decorator is visible) and declare the supported Fastify major.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@infra/health',
  [Symbol.for('plugin-meta')]: { name: '@infra/health', fastify: '5.x' },
});

/**
 * Fastify plugin serving `GET {prefix}/live` (process only, never touches a dependency),
 * `{prefix}/ready` (critical checks; 503 when not ready or shutting down), `{prefix}/startup` and
 * `{prefix}` (every check), as application/health+json.
 */
export const healthCheckController: FastifyPluginCallback<HealthPluginOptions> = plugin;

/** Same plugin as {@link healthCheckController}, under the name of the documented usage. */
export const HealthCheckController: FastifyPluginCallback<HealthPluginOptions> = plugin;

export default healthCheckController;

function isService(value: unknown): value is HealthCheckService {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['run', 'live', 'ready', 'startup', 'beginShutdown'].every(
    (method) => typeof candidate[method] === 'function',
  );
}

function normalizePrefix(prefix: string): string {
  const withSlash = prefix.startsWith('/') ? prefix : `/${prefix}`;
  return withSlash.length > 1 && withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function bearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
