import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkCompletionFlow,
  checkConcurrentCompletes,
  checkCrudAndCache,
  checkIdempotentCompletion,
  checkListingAndValidation,
  checkOperations,
  checkRedeliveryIsIdempotent,
  checkTextIsValidated,
  checkTransfers,
} from './challenge-flow.js';
import { startDemo, type RunningDemo } from './demo-instance.js';

describe('challenges service on embedded defaults (PGlite, memory cache, memory bus)', () => {
  let run: RunningDemo;

  beforeAll(async () => {
    run = await startDemo({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000', TRUST_PROXY: 'true' });
  });

  afterAll(async () => {
    const report = await run.demo.close();
    expect(report.ok, JSON.stringify(report.steps)).toBe(true);
  });

  it('migrated and seeded itself', async () => {
    const listing = await run.http('GET', '/v1/challenges?limit=50');
    expect(listing.body.meta.total).toBe(12);
    expect((listing.body.data as { source: string }[]).every((c) => c.source === 'seed')).toBe(true);
    expect((await run.http('GET', '/v1/users/alice')).body.data).toMatchObject({ name: 'Alice', points: 100 });
  });

  it('lists with pagination and answers bad input with problem details', () => checkListingAndValidation(run));
  it('serves challenges cache-aside and invalidates on update and delete', () => checkCrudAndCache(run));
  it('completes a challenge in a unit of work and updates statistics from the outbox message', () =>
    checkCompletionFlow(run));
  it('counts a redelivered message once', () => checkRedeliveryIsIdempotent(run));
  it('transfers points atomically', () => checkTransfers(run));
  it('loses no statistics under 100 concurrent completes', () => checkConcurrentCompletes(run, 100));
  it('refuses NUL and control characters in text fields with a 400', () => checkTextIsValidated(run));
  it('credits a completion retried with the same Idempotency-Key once', () => checkIdempotentCompletion(run));

  it('answers a too long URL, too large headers and a bad URL with problem details', async () => {
    const { port } = new URL(run.baseUrl);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', reject);
        socket.on('close', () => {
          resolve(received);
        });
      });
    const tooLong = await raw(`GET /v1/challenges/${'a'.repeat(500)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(tooLong).toMatch(/^HTTP\/1\.1 414 /);
    expect(tooLong.toLowerCase()).toContain('content-type: application/problem+json');
    expect(tooLong).toContain('"code":"URI_TOO_LONG"');
    const bigHeaders = await raw(`GET /v1/challenges HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expect(bigHeaders).toMatch(/^HTTP\/1\.1 431 /);
    expect(bigHeaders.toLowerCase()).toContain('content-type: application/problem+json');
    const badUrl = await raw('GET /v1/challenges/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(badUrl).toMatch(/^HTTP\/1\.1 400 /);
    expect(badUrl).toContain('"code":"BAD_URL"');
  });

  it('generates from a template when no OpenAI key is configured, and rate-limits generation', async () => {
    const generated = await run.http('POST', '/v1/challenges/generate', {
      topic: 'consistent hashing',
      difficulty: 'hard',
    });
    expect(generated.status).toBe(201);
    expect(generated.body.meta).toEqual({ source: 'template', reason: 'not-configured' });
    expect(generated.body.data).toMatchObject({
      source: 'template',
      difficulty: 'hard',
      category: 'consistent-hashing',
      points: 40,
    });
    expect(generated.body.data.title).toContain('consistent hashing');
    // draft-ietf-httpapi-ratelimit-headers: the policy, then what is left and when the window ends.
    expect(generated.headers.get('ratelimit-policy')).toBe('"generate";q=3;w=60');
    const [, remaining, reset] = /^"generate";r=(\d+);t=(\d+)$/.exec(generated.headers.get('ratelimit') ?? '') ?? [];
    expect(remaining).toBe('2');
    expect(Number(reset)).toBeGreaterThanOrEqual(0);
    expect(Number(reset)).toBeLessThanOrEqual(60);
    expect((await run.http('GET', `/v1/challenges/${generated.body.data.id}`)).status).toBe(200);

    expect((await run.http('POST', '/v1/challenges/generate', { topic: 'tries' })).status).toBe(201);
    expect((await run.http('POST', '/v1/challenges/generate', { topic: 'heaps' })).status).toBe(201);
    const limited = await run.http('POST', '/v1/challenges/generate', { topic: 'one too many' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(limited.body.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('ratelimit-policy')).toBe('"generate";q=3;w=60');
    expect(limited.headers.get('ratelimit')).toBe(`"generate";r=0;t=${retryAfter}`);
    // Other routes are not limited.
    const other = await run.http('GET', '/v1/challenges');
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit')).toBeNull();
    // Behind a trusted proxy each forwarded client address has its own budget.
    const elsewhere = await run.http(
      'POST',
      '/v1/challenges/generate',
      { topic: 'from another client' },
      { 'x-forwarded-for': '203.0.113.9' },
    );
    expect(elsewhere.status).toBe(201);
  });

  it('serves probes, metrics and the API docs', () => checkOperations(run));

  it('answers unknown routes with a 404 problem and echoes the request id', async () => {
    const response = await run.http('GET', '/v1/nothing-here', undefined, { 'x-request-id': 'trace-123' });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'NOT_FOUND', requestId: 'trace-123' });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
  });
});
