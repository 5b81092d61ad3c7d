import type { FastifyBaseLogger, FastifyPluginAsync, FastifyTypeProviderDefault, RawServerDefault } from 'fastify';
import { loadOptionalPeer } from '@infra/core';
import fp from 'fastify-plugin';
import { createCorsConfig } from '../cors-config.js';
import type { CorsConfigOptions } from '../cors-config.js';
import { missingPeer } from '../errors.js';

/**
 * Registers `@fastify/cors` (optional peer) with an allowlist checked by `createCorsConfig`: an
 * unsafe or malformed configuration makes `app.ready()` / `listen()` fail instead of serving.
 */
export const corsPlugin: FastifyPluginAsync<CorsConfigOptions> = fp<
  CorsConfigOptions,
  RawServerDefault,
  FastifyTypeProviderDefault,
  FastifyBaseLogger,
  FastifyPluginAsync<CorsConfigOptions>
>(
  async (app, options) => {
    // Validate first: a bad configuration is reported even where the peer is missing.
    const config = createCorsConfig(options);
    const { default: cors } = await loadOptionalPeer(
      '@fastify/cors',
      'corsPlugin',
      () => import('@fastify/cors'),
      missingPeer('@fastify/cors'),
    );
    await app.register(cors, config);
  },
  { name: '@infra/api/cors', fastify: '5.x' },
);
