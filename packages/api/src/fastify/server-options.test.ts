import { connect } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import { problemServerOptions } from './server-options.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(): Promise<number> {
  app = Fastify({ logger: false, routerOptions: { maxParamLength: 100 }, ...problemServerOptions() });
  await app.register(errorHandlerPlugin);
  app.get('/items/:id', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
}

/** Sends `text` as it is over a socket and returns what came back, split into head and parsed body. */
function raw(port: number, text: string): Promise<{ head: string; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const split = received.indexOf('\r\n\r\n');
      const body = received.slice(split + 4);
      try {
        resolve({ head: received.slice(0, split), body: JSON.parse(body) as Record<string, unknown> });
      } catch (error) {
        reject(new Error(`not JSON: ${JSON.stringify(received)}`, { cause: error }));
      }
    });
  });
}

describe('problemServerOptions over a real socket', () => {
  it('answers a path parameter over maxParamLength with a 414 problem that does not echo the URL', async () => {
    const port = await serve();
    const long = 'a'.repeat(300);
    const { head, body } = await raw(port, `GET /items/${long} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(head).toMatch(/^HTTP\/1\.1 414 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(body).toMatchObject({ status: 414, code: 'URI_TOO_LONG', title: 'URI Too Long' });
    expect(typeof body.requestId).toBe('string');
    expect(JSON.stringify(body)).not.toContain(long);
  });

  it('answers a bad percent-encoding with a 400 BAD_URL problem', async () => {
    const port = await serve();
    const { head, body } = await raw(port, 'GET /items/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(body).toMatchObject({ status: 400, code: 'BAD_URL' });
  });

  it('answers headers over the size limit with a 431 problem', async () => {
    const port = await serve();
    const { head, body } = await raw(
      port,
      `GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    );
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(body).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
  });

  it('answers a request that is not HTTP with a 400 problem', async () => {
    const port = await serve();
    const { head, body } = await raw(port, 'GARBAGE\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(body).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
  });
});
