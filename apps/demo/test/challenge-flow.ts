/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return --
   HTTP response bodies are untyped JSON: these journeys assert their shape. */
import { randomUUID } from 'node:crypto';
import { assertNoDuplicateFamilies, eventually, parsePrometheus, valueOf } from '@infra/test-utils';
import { expect } from 'vitest';
import { HEALTH_TOKEN, type RunningDemo } from './demo-instance.js';

// The same journeys run on embedded defaults and on real Postgres + Redis. Eventual conditions
// (the outbox relay, the consumer) are polled with deadlines meant for a busy machine: they cost
// nothing when things are quick.
const EVENTUALLY_MS = 60_000;

const FIRST_SEEDED = '00000000-0000-4000-8000-000000000001';

export function newChallenge(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Retry with jitter',
    description: 'Retry a flaky call with capped exponential backoff.',
    difficulty: 'medium',
    category: 'resilience',
    points: 30,
    ...overrides,
  };
}

export async function createUser(run: RunningDemo, points = 0): Promise<string> {
  const id = `u-${randomUUID().slice(0, 8)}`;
  const created = await run.http('POST', '/v1/users', { id, name: `User ${id}`, points });
  expect(created.status).toBe(201);
  return id;
}

async function outboxPending(run: RunningDemo): Promise<number> {
  const { rows } = await run.demo.resources.persistence.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL',
  );
  return Number(rows[0]?.n);
}

/** Listing with the paginated envelope and Link headers, and validation problems for bad input. */
export async function checkListingAndValidation(run: RunningDemo): Promise<void> {
  const page = await run.http('GET', '/v1/challenges?page=2&limit=5');
  expect(page.status).toBe(200);
  expect(page.body.success).toBe(true);
  expect(page.body.data).toHaveLength(5);
  expect(page.body.meta).toMatchObject({ page: 2, limit: 5 });
  expect(page.body.meta.totalPages).toBe(Math.ceil(page.body.meta.total / 5));
  expect(page.headers.get('link')).toContain('rel="next"');
  expect(page.headers.get('link')).toContain('</v1/challenges?page=1&limit=5>; rel="first"');
  const first = await run.http('GET', '/v1/challenges?page=1&limit=5');
  const ids = new Set([...first.body.data, ...page.body.data].map((c: { id: string }) => c.id));
  expect(ids.size).toBe(10);

  const badLimit = await run.http('GET', '/v1/challenges?limit=500');
  expect(badLimit.status).toBe(400);
  expect(badLimit.headers.get('content-type')).toContain('application/problem+json');
  expect(badLimit.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  expect(badLimit.body.errors[0]).toMatchObject({ in: 'querystring', pointer: '/limit' });

  const badBody = await run.http('POST', '/v1/challenges', newChallenge({ difficulty: 'impossible' }));
  expect(badBody.status).toBe(400);
  expect(badBody.body.errors[0].pointer).toBe('/difficulty');
  const extraField = await run.http('POST', '/v1/challenges', newChallenge({ admin: true }));
  expect(extraField.status).toBe(400);
  const badId = await run.http('GET', '/v1/challenges/not-a-uuid');
  expect(badId.status).toBe(400);
  const missing = await run.http('GET', `/v1/challenges/${randomUUID()}`);
  expect(missing.status).toBe(404);
  expect(missing.body.code).toBe('CHALLENGE_NOT_FOUND');
}

/** Create, read through the cache, update (invalidation), delete (invalidation). */
export async function checkCrudAndCache(run: RunningDemo): Promise<void> {
  const cache = run.demo.resources.cacheManager.getCache('challenges');
  const created = await run.http('POST', '/v1/challenges', newChallenge());
  expect(created.status).toBe(201);
  const id = created.body.data.id as string;
  expect(created.headers.get('location')).toBe(`/v1/challenges/${id}`);
  expect(created.body.data).toMatchObject({ ...newChallenge(), source: 'manual' });

  const before = cache.stats();
  const miss = await run.http('GET', `/v1/challenges/${id}`);
  const hit = await run.http('GET', `/v1/challenges/${id}`);
  expect(hit.body).toEqual(miss.body);
  expect(cache.stats().misses - before.misses).toBe(1);
  expect(cache.stats().hits - before.hits).toBe(1);
  expect(await cache.get(`challenge:${id}`)).toMatchObject({ id, title: newChallenge().title });

  // Changed behind the service's back: the cache keeps serving what it holds...
  await run.demo.resources.persistence.query('UPDATE challenges SET title = $2 WHERE id = $1', [
    id,
    'Changed in the database',
  ]);
  expect((await run.http('GET', `/v1/challenges/${id}`)).body.data.title).toBe(newChallenge().title);
  // ...until a write through the service invalidates it.
  const patched = await run.http('PATCH', `/v1/challenges/${id}`, { points: 35 });
  expect(patched.status).toBe(200);
  expect(patched.body.data).toMatchObject({ points: 35, title: 'Changed in the database' });
  expect(await cache.get(`challenge:${id}`)).toBeUndefined();
  expect((await run.http('GET', `/v1/challenges/${id}`)).body.data).toMatchObject({
    points: 35,
    title: 'Changed in the database',
  });

  expect((await run.http('PATCH', `/v1/challenges/${id}`, {})).status).toBe(400);
  expect((await run.http('PATCH', `/v1/challenges/${randomUUID()}`, { points: 1 })).status).toBe(404);

  const deleted = await run.http('DELETE', `/v1/challenges/${id}`);
  expect(deleted.status).toBe(204);
  expect(await cache.get(`challenge:${id}`)).toBeUndefined();
  expect((await run.http('GET', `/v1/challenges/${id}`)).status).toBe(404);
  expect((await run.http('DELETE', `/v1/challenges/${id}`)).status).toBe(404);
}

/** Completion in a unit of work, outbox message, asynchronous statistics; failures roll back. */
export async function checkCompletionFlow(run: RunningDemo): Promise<void> {
  const userId = await createUser(run, 5);
  expect((await run.http('POST', '/v1/users', { id: userId, name: 'again' })).body.code).toBe('USER_ALREADY_EXISTS');

  const done = await run.http('POST', `/v1/challenges/${FIRST_SEEDED}/complete`, { userId, score: 8 });
  expect(done.status).toBe(201);
  expect(done.body.data).toMatchObject({ challengeId: FIRST_SEEDED, userId, score: 8 });
  const user = await run.http('GET', `/v1/users/${userId}`);
  expect(user.body.data.points).toBe(13);

  await eventually(
    async () => (await run.http('GET', `/v1/users/${userId}`)).body.data.stats.completions === 1,
    EVENTUALLY_MS,
  );
  const stats = (await run.http('GET', `/v1/users/${userId}`)).body.data.stats;
  expect(stats).toMatchObject({ completions: 1, totalScore: 8, bestScore: 8 });
  expect(Date.parse(stats.lastCompletedAt)).toBe(Date.parse(done.body.data.completedAt));

  // Failed completions leave nothing behind: no points, no completion, no outbox message.
  await eventually(async () => (await outboxPending(run)) === 0, EVENTUALLY_MS);
  const tooHigh = await run.http('POST', `/v1/challenges/${FIRST_SEEDED}/complete`, { userId, score: 11 });
  expect(tooHigh.status).toBe(400);
  const nobody = await run.http('POST', `/v1/challenges/${FIRST_SEEDED}/complete`, { userId: 'nobody-here', score: 1 });
  expect(nobody.status).toBe(404);
  expect(nobody.body.code).toBe('USER_NOT_FOUND');
  const noChallenge = await run.http('POST', `/v1/challenges/${randomUUID()}/complete`, { userId, score: 1 });
  expect(noChallenge.body.code).toBe('CHALLENGE_NOT_FOUND');
  const { rows } = await run.demo.resources.persistence.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE topic = $1',
    ['challenge.completed'],
  );
  const { rows: mine } = await run.demo.resources.persistence.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM outbox WHERE (payload->>'body')::jsonb->>'userId' = $1",
    [userId],
  );
  expect(Number(mine[0]?.n)).toBe(1);
  expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1);
  expect((await run.http('GET', `/v1/users/${userId}`)).body.data.points).toBe(13);
}

/**
 * A message published twice (same id) is counted once. A broker that drops a repeated id itself
 * (NATS JetStream, within its duplicate window) delivers it once: `brokerDeduplicates`.
 */
export async function checkRedeliveryIsIdempotent(
  run: RunningDemo,
  { brokerDeduplicates = false }: { brokerDeduplicates?: boolean } = {},
): Promise<void> {
  const userId = await createUser(run);
  const { bus } = run.demo.resources.messaging;
  const payload = {
    completionId: 'manual-1',
    userId,
    challengeId: FIRST_SEEDED,
    score: 4,
    timestamp: new Date().toISOString(),
  };
  const id = randomUUID();
  const other = randomUUID();
  // Every delivery of these messages, duplicate included, ends in a `handled` event once the
  // consumer is done with it (a skipped duplicate is handled too): wait for all three, then look.
  const handled: string[] = [];
  const stopWatching = bus.on('handled', (event) => {
    if (event.id === id || event.id === other) handled.push(event.id);
  });
  try {
    await bus.publish('challenge.completed', payload, { id, key: userId });
    await bus.publish('challenge.completed', payload, { id, key: userId });
    await bus.publish('challenge.completed', { ...payload, score: 6 }, { id: other, key: userId });
    const deliveries = brokerDeduplicates ? 1 : 2;
    await eventually(
      () => handled.filter((h) => h === id).length >= deliveries && handled.includes(other),
      EVENTUALLY_MS,
    );
  } finally {
    stopWatching();
  }
  expect((await run.http('GET', `/v1/users/${userId}`)).body.data.stats).toMatchObject({
    completions: 2,
    totalScore: 10,
    bestScore: 6,
  });
}

/** Points move in one transaction, or not at all. */
export async function checkTransfers(run: RunningDemo): Promise<void> {
  const from = await createUser(run, 50);
  const to = await createUser(run, 0);
  const moved = await run.http('POST', '/v1/transfers', { from, to, amount: 20 });
  expect(moved.status).toBe(201);
  expect(moved.body.data.balances).toEqual({ [from]: 30, [to]: 20 });
  const tooMuch = await run.http('POST', '/v1/transfers', { from, to, amount: 31 });
  expect(tooMuch.status).toBe(409);
  expect(tooMuch.body.code).toBe('INSUFFICIENT_POINTS');
  const toNobody = await run.http('POST', '/v1/transfers', { from, to: 'nobody-here', amount: 1 });
  expect(toNobody.body.code).toBe('USER_NOT_FOUND');
  expect((await run.http('POST', '/v1/transfers', { from, to: from, amount: 1 })).status).toBe(400);
  // Opposite transfers at once: row locks in id order, no deadlock, no lost update.
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      run.http('POST', '/v1/transfers', i % 2 === 0 ? { from, to, amount: 1 } : { from: to, to: from, amount: 1 }),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 201));
  expect((await run.http('GET', `/v1/users/${from}`)).body.data.points).toBe(30);
  expect((await run.http('GET', `/v1/users/${to}`)).body.data.points).toBe(20);
}

/** Many completes at once: every one is recorded and counted exactly once by the consumer. */
export async function checkConcurrentCompletes(run: RunningDemo, count: number): Promise<void> {
  const userId = await createUser(run);
  const scores = Array.from({ length: count }, (_, i) => (i % 10) + 1);
  const responses = await Promise.all(
    scores.map((score) => run.http('POST', `/v1/challenges/${FIRST_SEEDED}/complete`, { userId, score })),
  );
  expect(responses.filter((r) => r.status !== 201).map((r) => r.body)).toEqual([]);
  const total = scores.reduce((sum, score) => sum + score, 0);
  await eventually(
    async () => (await run.http('GET', `/v1/users/${userId}`)).body.data.stats.completions === count,
    EVENTUALLY_MS,
    100,
  );
  const user = (await run.http('GET', `/v1/users/${userId}`)).body.data;
  expect(user.points).toBe(total);
  expect(user.stats).toMatchObject({ completions: count, totalScore: total, bestScore: 10 });
}

/** Probes, metrics and the OpenAPI document. */
export async function checkOperations(run: RunningDemo): Promise<void> {
  expect((await run.http('GET', '/health/live')).status).toBe(200);
  const ready = await run.http('GET', '/health/ready');
  expect(ready.status).toBe(200);
  expect(ready.headers.get('content-type')).toContain('application/health+json');
  // Anonymous callers get the status alone; the token shows the checks.
  const anonymous = (await run.http('GET', '/health')).body;
  expect(anonymous).toMatchObject({ status: 'pass' });
  expect(anonymous.checks).toBeUndefined();
  const full = await run.http('GET', '/health', undefined, { authorization: `Bearer ${HEALTH_TOKEN}` });
  expect(full.body.status).toBe('pass');
  expect(Object.keys(full.body.checks)).toEqual(expect.arrayContaining(['database', 'messaging', 'cache']));

  const metrics = await fetch(`${run.baseUrl}/metrics`).then((r) => r.text());
  const served = { method: 'GET', route: '/v1/challenges/:id', status_class: '2xx' };
  expect(valueOf(parsePrometheus(metrics), 'http_request_duration_seconds_count', served)).toBeGreaterThan(0);
  expect(metrics).toMatch(/challenges_completed_total\{service="challenges"\} [1-9]/);
  expect(metrics).toContain('cache_requests_total{cache="challenges",result="hit"');
  expect(metrics).toContain('db_transactions_total');
  // Every family once: prom-client's default metrics and the performance monitor measure the same
  // process quantities, and only the former are exported.
  assertNoDuplicateFamilies(metrics);
  expect(metrics).toContain('# TYPE nodejs_gc_duration_seconds histogram');

  const doc = await run.http('GET', '/docs/json');
  expect(doc.body.openapi).toMatch(/^3\.1/);
  expect(Object.keys(doc.body.paths)).toEqual(
    expect.arrayContaining([
      '/v1/challenges',
      '/v1/challenges/{id}',
      '/v1/challenges/{id}/complete',
      '/v1/challenges/generate',
      '/v1/transfers',
    ]),
  );
  const page = await fetch(`${run.baseUrl}/docs/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('swagger');
}

/** NUL and control characters in text fields: a 400 naming the field, never a database error. */
export async function checkTextIsValidated(run: RunningDemo): Promise<void> {
  // The generate attempt counts against a rate limit budget: from an address of its own (behind a
  // trusted proxy), so that it does not spend the budget other tests count on.
  const client = { 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250) + 1}` };
  const attempts: [string, string, Record<string, unknown>, string][] = [
    [
      'POST',
      '/v1/challenges',
      { title: 'nul\u0000here', description: 'd', difficulty: 'easy', category: 'x', points: 1 },
      '/title',
    ],
    ['POST', '/v1/users', { id: `u-${randomUUID().slice(0, 8)}`, name: 'Bob\u0000' }, '/name'],
    ['POST', '/v1/challenges/generate', { topic: 'heaps\u0000' }, '/topic'],
    ['PATCH', `/v1/challenges/${FIRST_SEEDED}`, { description: 'bell\u0007' }, '/description'],
  ];
  for (const [method, path, body, pointer] of attempts) {
    const response = await run.http(method, path, body, client);
    expect(response.status, `${method} ${path}`).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ in: 'body', pointer }] });
    // Everything but the request id, a random UUID that may hold the digits 22021 itself.
    const { requestId, ...answer } = response.body as { requestId?: unknown };
    expect(requestId).toEqual(expect.any(String));
    expect(JSON.stringify(answer)).not.toMatch(/22021|byte sequence|Query failed/);
  }
}

/** A retried completion with the same Idempotency-Key credits the points once. */
export async function checkIdempotentCompletion(run: RunningDemo): Promise<void> {
  const userId = await createUser(run);
  const key = randomUUID();
  const path = `/v1/challenges/${FIRST_SEEDED}/complete`;
  const first = await run.http('POST', path, { userId, score: 7 }, { 'idempotency-key': key });
  expect(first.status).toBe(201);
  const retried = await run.http('POST', path, { userId, score: 7 }, { 'idempotency-key': key });
  expect(retried.status).toBe(201);
  expect(retried.headers.get('idempotent-replayed')).toBe('true');
  expect(retried.body).toEqual(first.body);
  const other = await run.http('POST', path, { userId, score: 9 }, { 'idempotency-key': key });
  expect(other.status).toBe(422);
  expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  // Concurrent duplicates: one runs, the others are replayed or told it is still running.
  const burstKey = randomUUID();
  const burst = await Promise.all(
    Array.from({ length: 8 }, () => run.http('POST', path, { userId, score: 3 }, { 'idempotency-key': burstKey })),
  );
  for (const response of burst) expect([201, 409]).toContain(response.status);
  await eventually(
    async () => (await run.http('GET', `/v1/users/${userId}`)).body.data.stats.completions === 2,
    EVENTUALLY_MS,
    100,
  );
  const user = (await run.http('GET', `/v1/users/${userId}`)).body.data;
  expect(user.points).toBe(7 + 3);
  expect(user.stats.completions).toBe(2);
}
