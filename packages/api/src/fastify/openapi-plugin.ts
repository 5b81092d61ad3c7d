import type { FastifyBaseLogger, FastifyPluginAsync, FastifyTypeProviderDefault, RawServerDefault } from 'fastify';
import { loadOptionalPeer } from '@infra/core';
import fp from 'fastify-plugin';
import { InvalidOptionError, check, missingPeer } from '../errors.js';
import { problemDetailsSchema } from '../schemas.js';

export interface OpenApiPluginOptions {
  /**
   * The document's `info` object.
   * @default { title: 'API', version: '1.0.0' }
   */
  info?: { title: string; version: string; description?: string };
  /**
   * Further OpenAPI document members (`servers`, `tags`, `components`, ...), merged into the
   * document; `components.schemas.ProblemDetails` is always added.
   * @default {}
   */
  document?: Record<string, unknown>;
  /**
   * Serve Swagger UI (optional peer `@fastify/swagger-ui`) at `routePrefix`, with the document at
   * `${routePrefix}/json` and `${routePrefix}/yaml`.
   * @default true
   */
  ui?: boolean;
  /**
   * Where the docs page is served.
   * @default '/docs'
   */
  routePrefix?: string;
}

/**
 * Generates an OpenAPI 3.1 document from the route schemas with `@fastify/swagger` (optional peer)
 * and serves it with Swagger UI. Register it before the routes: it learns them as they are added.
 * `app.swagger()` returns the document once the app is ready.
 */
export const openApiPlugin: FastifyPluginAsync<OpenApiPluginOptions> = fp<
  OpenApiPluginOptions,
  RawServerDefault,
  FastifyTypeProviderDefault,
  FastifyBaseLogger,
  FastifyPluginAsync<OpenApiPluginOptions>
>(
  async (app, options) => {
    const info = check.plainObject('info', options.info ?? { title: 'API', version: '1.0.0' });
    check.nonEmptyString('info.title', info.title);
    check.nonEmptyString('info.version', info.version);
    const document = check.plainObject('document', options.document ?? {});
    const ui = check.boolean('ui', options.ui ?? true);
    const routePrefix = options.routePrefix ?? '/docs';
    if (typeof routePrefix !== 'string' || !/^\/[^?#\s]*$/.test(routePrefix)) {
      throw new InvalidOptionError('routePrefix', routePrefix, 'a path such as "/docs"');
    }
    const components = (document.components ?? {}) as { schemas?: Record<string, unknown> };

    const { default: swagger } = await loadOptionalPeer(
      '@fastify/swagger',
      'openApiPlugin',
      () => import('@fastify/swagger'),
      missingPeer('@fastify/swagger'),
    );
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        ...document,
        info: info as { title: string; version: string },
        components: { ...components, schemas: { ...components.schemas, ProblemDetails: problemDetailsSchema } },
      },
    });
    if (ui) {
      const { default: swaggerUi } = await loadOptionalPeer(
        '@fastify/swagger-ui',
        'openApiPlugin (ui: true)',
        () => import('@fastify/swagger-ui'),
        missingPeer('@fastify/swagger-ui'),
      );
      await app.register(swaggerUi, { routePrefix });
    }
  },
  { name: '@infra/api/openapi', fastify: '5.x' },
);
