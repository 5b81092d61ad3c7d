import { databaseUrl, eventually, redisUrl, startTcpProxy, uniqueName, type TcpProxy } from '@infra/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkCompletionFlow,
  checkConcurrentCompletes,
  checkCrudAndCache,
  checkListingAndValidation,
  checkOperations,
  checkIdempotentCompletion,
  checkRedeliveryIsIdempotent,
  checkTextIsValidated,
  checkTransfers,
} from './challenge-flow.js';
import { HEALTH_TOKEN, startDemo, type RunningDemo } from './demo-instance.js';
import { connectTestRedis, deleteTestKeys } from './redis-client.js';

const schema = uniqueName('demo');
const keyPrefix = `${uniqueName('demo')}:`;

async function dropSchema(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}

describe('challenges service on real Postgres and Redis', () => {
  let run: RunningDemo;

  beforeAll(async () => {
    run = await startDemo({
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
    });
  });

  afterAll(async () => {
    const report = await run.demo.close();
    await dropSchema(schema);
    await deleteTestKeys(keyPrefix);
    expect(report.ok, JSON.stringify(report.steps)).toBe(true);
  });

  it('uses its own schema on the server and Redis under its own prefix', async () => {
    expect(run.demo.resources.messaging.bus.adapter.name).toBe('redis');
    const { rows } = await run.demo.resources.persistence.query<{ schema: string }>(
      'SELECT current_schema() AS schema',
    );
    expect(rows[0]?.schema).toBe(schema);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['challenges', 'users', 'outbox', 'user_stats', 'schema_migrations']),
      );
    } finally {
      await client.end();
    }
    await run.http('GET', '/v1/challenges/00000000-0000-4000-8000-000000000002');
    const redis = await connectTestRedis();
    try {
      const keys = await redis.keys(`${keyPrefix}cache:*challenge:00000000-0000-4000-8000-000000000002`);
      expect(keys).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });

  it('lists with pagination and answers bad input with problem details', () => checkListingAndValidation(run));
  it('serves challenges cache-aside from Redis and invalidates on update and delete', () => checkCrudAndCache(run));
  it('completes a challenge and updates statistics through the outbox and Redis Streams', () =>
    checkCompletionFlow(run));
  it('counts a redelivered message once', () => checkRedeliveryIsIdempotent(run));
  it('transfers points atomically', () => checkTransfers(run));
  it('loses no statistics under 100 concurrent completes', () => checkConcurrentCompletes(run, 100));
  it('serves probes, metrics and the API docs', () => checkOperations(run));
  it('refuses NUL in text fields with a 400, never a Postgres error', () => checkTextIsValidated(run));
  it('credits a completion retried with the same Idempotency-Key once (keys in Redis)', async () => {
    await checkIdempotentCompletion(run);
    const redis = await connectTestRedis();
    try {
      expect((await redis.keys(`${keyPrefix}idem:*`)).length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});

describe('a cold start under a burst of requests', () => {
  const burstSchema = uniqueName('demo_burst');
  let run: RunningDemo;

  beforeAll(async () => {
    run = await startDemo({
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: burstSchema,
      DATABASE_POOL_SIZE: '2',
      // One caller waiting is the bound: a burst on two connections must be shed, not queued.
      LOAD_SHED_MAX_POOL_WAITING: '1',
      DATABASE_ACQUIRE_TIMEOUT_MS: '60000',
      CACHE_ENABLED: 'false',
    });
  });

  afterAll(async () => {
    await run.demo.close();
    await dropSchema(burstSchema);
  });

  it('opened its pool at start', () => {
    expect(run.demo.resources.persistence.driver.stats()).toMatchObject({ max: 2, total: 2 });
  });

  it('sheds requests beyond the pool queue bound with a 503 problem and Retry-After, before any work', async () => {
    let shed: { status: number; headers: Headers; body: Record<string, unknown> } | undefined;
    await eventually(
      async () => {
        const answers = await Promise.all(
          Array.from({ length: 40 }, (_, i) => run.http('GET', `/v1/challenges?page=${(i % 3) + 1}&limit=5`)),
        );
        for (const answer of answers) {
          // Either served or shed: never a pool timeout or another failure.
          expect([200, 503]).toContain(answer.status);
          if (answer.status === 503) {
            expect(answer.body.code).toBe('OVERLOADED');
            shed = answer;
          }
        }
        return shed !== undefined;
      },
      120_000,
      100,
    );
    expect(shed?.headers.get('retry-after')).toBe('1');
    expect(shed?.headers.get('content-type')).toContain('application/problem+json');
    // Probes are never shed, and the service serves again once the burst is over.
    expect((await run.http('GET', '/health/live')).status).toBe(200);
    await eventually(async () => (await run.http('GET', '/v1/challenges')).status === 200, 60_000, 100);
  });
});

describe('readiness when Postgres becomes unreachable', () => {
  const proxySchema = uniqueName('demo_proxy');
  let proxy: TcpProxy;
  let run: RunningDemo;

  beforeAll(async () => {
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.port = String(proxy.port);
    // The service's own acquire timeout: a request must fail fast while the database is away.
    run = await startDemo({
      DATABASE_URL: target.toString(),
      DATABASE_SCHEMA: proxySchema,
      DATABASE_POOL_SIZE: '4',
      DATABASE_ACQUIRE_TIMEOUT_MS: '3000',
    });
  });

  afterAll(async () => {
    await run.demo.close();
    await proxy.close();
    await dropSchema(proxySchema);
  });

  it('turns not ready while the database is unreachable and ready again after, without a restart', async () => {
    expect((await run.http('GET', '/health/ready')).status).toBe(200);

    await proxy.cut();
    await eventually(async () => (await run.http('GET', '/health/ready')).status === 503, 60_000, 100);
    const report = await run.http('GET', '/health', undefined, { 'x-health-token': HEALTH_TOKEN });
    expect(report.status).toBe(503);
    expect(report.body.checks.database[0].status).toBe('fail');
    // Liveness does not depend on the database: the orchestrator must not restart the process.
    expect((await run.http('GET', '/health/live')).status).toBe(200);
    const failed = await run.http('GET', '/v1/challenges/00000000-0000-4000-8000-000000000003');
    expect(failed.status).toBe(503);
    expect(failed.headers.get('content-type')).toContain('application/problem+json');

    await proxy.restore();
    await eventually(async () => (await run.http('GET', '/health/ready')).status === 200, 60_000, 100);
    expect((await run.http('GET', '/v1/challenges/00000000-0000-4000-8000-000000000003')).status).toBe(200);
  });
});
