import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import { deprecationHeaders } from '../deprecation.js';
import type { DeprecationOptions } from '../deprecation.js';
import { InvalidOptionError, check } from '../errors.js';
import { appendLink, appendVary } from './reply-headers.js';

export interface ApiVersionOptions {
  /** Exact version of this API generation, `'1.0.0'`; `Accept-Version` ranges (`1.x`, `1`) select it. */
  version: string;
  /** The routes of this version, registered once per routing mode. */
  routes: FastifyPluginAsync | FastifyPluginCallback;
  /**
   * URL prefix under which the routes answer, or `false` for header routing only.
   * @default `/v${major}` (e.g. `/v1`)
   */
  urlPrefix?: string | false;
  /**
   * Also serve the routes at their unprefixed paths, selected by the `Accept-Version` header
   * (Fastify's `version` constraint; see `acceptVersionStrategy` for a default version).
   * @default false
   */
  header?: boolean;
  /**
   * Marks the version deprecated: every response carries `Deprecation`, `Sunset` (when given) and
   * `Link: rel="successor-version"` / `rel="deprecation"`.
   * @default undefined (not deprecated)
   */
  deprecation?: DeprecationOptions;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Exact version of the API generation that serves this request; undefined outside versioned routes. */
    readonly apiVersion: string | undefined;
  }
}

/**
 * Registers one API version: under a URL prefix (`/v1/...`), by `Accept-Version` header, or both,
 * with deprecation headers on its responses. Encapsulated on purpose: register it once per version.
 *
 * @example
 * await app.register(apiVersionPlugin, { version: '1.0.0', routes: v1, header: true,
 *   deprecation: { deprecatedAt: '2025-01-01', sunset: '2025-12-31', successor: '/v2' } });
 * await app.register(apiVersionPlugin, { version: '2.0.0', routes: v2, header: true });
 */
export async function apiVersionPlugin(app: FastifyInstance, options: ApiVersionOptions): Promise<void> {
  const version = typeof options.version === 'string' ? /^(\d+)\.(\d+)\.(\d+)$/.exec(options.version) : null;
  if (version === null) throw new InvalidOptionError('version', options.version, 'an exact version such as "1.0.0"');
  if (typeof options.routes !== 'function')
    throw new InvalidOptionError('routes', options.routes, 'a Fastify plugin function');
  const exact = options.version;
  const urlPrefix = options.urlPrefix ?? `/v${version[1] ?? ''}`;
  if (urlPrefix !== false && (typeof urlPrefix !== 'string' || !/^\/[^?#\s]*[^/?#\s]$/.test(urlPrefix))) {
    throw new InvalidOptionError(
      'urlPrefix',
      urlPrefix,
      'false or a path such as "/v1" (leading slash, no trailing slash)',
    );
  }
  const header = check.boolean('header', options.header ?? false);
  if (urlPrefix === false && !header) {
    throw new InvalidOptionError('urlPrefix', urlPrefix, 'a prefix, unless header routing is on (header: true)');
  }
  const deprecation = options.deprecation === undefined ? undefined : deprecationHeaders(options.deprecation);

  if (!app.hasRequestDecorator('apiVersion')) app.decorateRequest('apiVersion', exact);
  // onSend also runs for error and not-found replies of this scope, so they carry the notice too.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('api-version', exact);
    if (deprecation !== undefined) {
      reply.header('deprecation', deprecation.deprecation);
      if (deprecation.sunset !== undefined) reply.header('sunset', deprecation.sunset);
      if (deprecation.link !== undefined) appendLink(reply, deprecation.link);
    }
    return payload;
  });

  if (urlPrefix !== false) await app.register(options.routes, { prefix: urlPrefix });
  if (header) {
    await app.register(async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.constraints = { ...route.constraints, version: exact };
      });
      scope.addHook('onSend', async (_request, reply, payload) => {
        // Caches must key these responses on the header that selected them.
        appendVary(reply, 'Accept-Version');
        return payload;
      });
      await scope.register(options.routes);
    });
  }
}
