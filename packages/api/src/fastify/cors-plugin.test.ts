import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest } from '../../test/http-client.js';
import { corsPlugin } from './cors-plugin.js';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import type { CorsConfigOptions } from '../cors-config.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(options: CorsConfigOptions): Promise<string> {
  app = Fastify({ logger: false });
  await app.register(errorHandlerPlugin);
  await app.register(corsPlugin, options);
  app.get('/items', async (_request, reply) => reply.header('link', '</items?page=2>; rel="next"').send({ ok: true }));
  app.post('/items', async () => ({ created: true }));
  return app.listen({ port: 0, host: '127.0.0.1' });
}

const preflight = (origin: string, method = 'POST') => ({
  method: 'OPTIONS',
  headers: {
    origin,
    'access-control-request-method': method,
    'access-control-request-headers': 'content-type, authorization',
  },
});

describe('corsPlugin over a real socket', () => {
  it('answers a preflight from an allowed origin with the credentialed CORS headers', async () => {
    const base = await serve({
      origins: ['https://app.example.com', 'https://*.preview.example.com'],
      credentials: true,
      maxAgeMs: 120_000,
    });
    const response = await httpRequest(`${base}/items`, preflight('https://pr-7.preview.example.com'));
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://pr-7.preview.example.com');
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
    expect(response.headers['access-control-allow-headers']).toContain('Authorization');
    expect(response.headers['access-control-max-age']).toBe('120');
    expect(response.headers.vary).toContain('Origin');
  });

  it('adds CORS headers to a simple request and exposes Link', async () => {
    const base = await serve({ origins: ['https://app.example.com'], credentials: true });
    const response = await httpRequest(`${base}/items`, { headers: { origin: 'https://app.example.com' } });
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(response.headers['access-control-expose-headers']).toContain('Link');
  });

  it.each(['https://evil.example.com', 'https://app.example.com.evil.net', 'null', 'http://app.example.com'])(
    'gives %s no CORS headers, preflight or not',
    async (origin) => {
      const base = await serve({ origins: ['https://app.example.com'], credentials: true });
      const pre = await httpRequest(`${base}/items`, preflight(origin));
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
      expect(pre.status).not.toBe(204);
      const simple = await httpRequest(`${base}/items`, { headers: { origin } });
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
      expect(simple.headers['access-control-allow-credentials']).toBeUndefined();
    },
  );

  it('serves any origin with "*" when credentials are off', async () => {
    const base = await serve({ origins: '*' });
    const response = await httpRequest(`${base}/items`, preflight('https://anyone.example'));
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it.each([
    [{ origins: '*', credentials: true }, 'UNSAFE_CORS_CONFIG'],
    [{ origins: [/^.*$/], credentials: true }, 'UNSAFE_CORS_CONFIG'],
    [{ origins: [/example\.com/] }, 'UNSAFE_CORS_CONFIG'],
    [{ origins: ['https://app.example.com/'] }, 'INVALID_OPTION'],
  ])('refuses to start with %j (%s)', async (options, code) => {
    app = Fastify({ logger: false });
    void app.register(corsPlugin, options as CorsConfigOptions);
    await expect(app.listen({ port: 0, host: '127.0.0.1' })).rejects.toMatchObject({ code });
    expect(app.server.listening).toBe(false);
  });
});
