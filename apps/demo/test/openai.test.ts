import { eventually, startFakeOpenAIServer, type FakeOpenAIServer } from '@infra/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_TOKEN, startDemo, type RunningDemo } from './demo-instance.js';

const answer = JSON.stringify({
  title: 'Rate limiter from scratch',
  description: 'Build a sliding-window limiter and prove its bounds.',
});

// One service instance for the file: the OpenAI journeys first, the graceful shutdown last.
describe('POST /v1/challenges/generate with OpenAI configured (fake OpenAI server)', () => {
  let fake: FakeOpenAIServer;
  let run: RunningDemo;

  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
    run = await startDemo({
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_MAX_RETRIES: '1',
      RATE_LIMIT_MAX: '100',
      // Generous: the readiness probe of the shutdown test must reach the server within it.
      SHUTDOWN_READINESS_DELAY_MS: '2000',
    });
  });

  afterEach(() => {
    fake.reset();
    if (!run.demo.shutdown.isShuttingDown) run.demo.resources.openai?.breaker('gpt-4o-mini').close();
  });

  afterAll(async () => {
    // Closed by the last test already; close() is idempotent and covers an earlier failure.
    await run.demo.close();
    await fake.close();
  });

  it('asks the model and stores what it wrote', async () => {
    fake.enqueue({ content: answer });
    const generated = await run.http('POST', '/v1/challenges/generate', { topic: 'rate limiting', difficulty: 'easy' });
    expect(generated.status).toBe(201);
    expect(generated.body.meta).toEqual({ source: 'openai', model: 'gpt-4o-mini' });
    expect(generated.body.data).toMatchObject({
      title: 'Rate limiter from scratch',
      source: 'openai',
      difficulty: 'easy',
      points: 10,
    });
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', response_format: { type: 'json_object' } });
    expect(JSON.stringify(sent.body)).toContain('rate limiting');
    expect((await run.http('GET', `/v1/challenges/${generated.body.data.id}`)).body.data.title).toBe(
      'Rate limiter from scratch',
    );
    const metrics = await fetch(`${run.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/openai_requests_total\{[^}]*model="gpt-4o-mini"/);
  });

  it('falls back to a template, without calling OpenAI, while the breaker is open', async () => {
    run.demo.resources.openai!.breaker('gpt-4o-mini').open();
    const generated = await run.http('POST', '/v1/challenges/generate', { topic: 'bloom filters' });
    expect(generated.status).toBe(201);
    expect(generated.body.meta).toEqual({ source: 'template', reason: 'circuit-open' });
    expect(generated.body.data.source).toBe('template');
    expect(fake.requests).toHaveLength(0);
  });

  it('falls back when OpenAI keeps failing, after its retries', async () => {
    fake.enqueue({ status: 500 }, { status: 503 });
    const generated = await run.http('POST', '/v1/challenges/generate', { topic: 'bloom filters' });
    expect(generated.status).toBe(201);
    expect(generated.body.meta).toEqual({ source: 'template', reason: 'upstream-unavailable' });
    expect(fake.requests).toHaveLength(2);
  });

  it('falls back when the answer is not a usable challenge', async () => {
    fake.enqueue({ content: 'Sure! Here is a challenge: ...' });
    const generated = await run.http('POST', '/v1/challenges/generate', { topic: 'bloom filters' });
    expect(generated.body.meta).toEqual({ source: 'template', reason: 'invalid-output' });
  });

  it('reports refused credentials as a 502 problem instead of hiding them behind a template', async () => {
    fake.enqueue({
      status: 401,
      error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' },
    });
    const refused = await run.http('POST', '/v1/challenges/generate', { topic: 'bloom filters' });
    expect(refused.status).toBe(502);
    expect(refused.body.code).toBe('AUTHENTICATION');
  });

  it('reports OpenAI as a non-critical check', async () => {
    const health = await run.http('GET', '/health', undefined, { 'x-health-token': HEALTH_TOKEN });
    expect(health.body.checks.openai[0]).toMatchObject({ critical: false });
  });

  // Last: it closes the service.
  it('shuts down gracefully: readiness fails first, the request in flight drains, then everything closes', async () => {
    // The answer outlasts the readiness delay, so the request is still in flight when the listener closes.
    fake.enqueue({ content: answer, delayMs: 4000 });
    const inFlight = run.http('POST', '/v1/challenges/generate', { topic: 'slow answers' });
    await eventually(() => fake.requests.length === 1, 60_000);

    const closing = run.demo.close({ reason: 'SIGTERM' });
    const ready = await run.http('GET', '/health/ready');
    expect(ready.status).toBe(503);

    const answered = await inFlight;
    expect(answered.status).toBe(201);
    expect(answered.body.meta.source).toBe('openai');

    const report = await closing;
    expect(report.ok, JSON.stringify(report.steps)).toBe(true);
    expect(report.reason).toBe('SIGTERM');
    expect(report.steps.map((step) => step.name)).toEqual([
      'readiness',
      'readiness-delay',
      'server',
      'health-check-scheduler',
      'outbox-relay',
      'message-bus',
      'openai',
      'idempotency-store',
      'rate-limit-store',
      'cache',
      'database',
      'performance-monitor',
      'error-monitor',
    ]);
    await expect(fetch(`${run.baseUrl}/health/live`)).rejects.toThrow();
    // Idempotent: a second close returns the same report.
    expect(await run.demo.close()).toBe(report);
  });
});
