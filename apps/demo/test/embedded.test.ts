import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkCompletionFlow,
  checkConcurrentCompletes,
  checkCrudAndCache,
  checkListingAndValidation,
  checkOperations,
  checkRedeliveryIsIdempotent,
  checkTransfers,
} from './challenge-flow.js';
import { startDemo, type RunningDemo } from './demo-instance.js';

describe('challenges service on embedded defaults (PGlite, memory cache, memory bus)', () => {
  let run: RunningDemo;

  beforeAll(async () => {
    run = await startDemo({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
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
    expect(generated.headers.get('ratelimit-remaining')).toBe('2');
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
    // Other routes are not limited.
    expect((await run.http('GET', '/v1/challenges')).status).toBe(200);
  });

  it('serves probes, metrics and the API docs', () => checkOperations(run));

  it('answers unknown routes with a 404 problem and echoes the request id', async () => {
    const response = await run.http('GET', '/v1/nothing-here', undefined, { 'x-request-id': 'trace-123' });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'NOT_FOUND', requestId: 'trace-123' });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
  });
});
