import { adminQuery, databaseUrl, eventually, uniqueName } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresAdapter } from './postgres-adapter.js';
import { resolvePostgresOptions } from './postgres-options.js';

const schema = uniqueName('messaging_pg_options');

afterAll(async () => {
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

function failure(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return { code: 'no error' };
}

describe('postgres adapter options', () => {
  it('rejects each bad option with a coded error naming it', () => {
    const url = 'postgres://127.0.0.1/test';
    const cases: [Record<string, unknown>, string][] = [
      [{ connectionString: url, schema: 'Bad-Name' }, 'schema'],
      [{ connectionString: url, schema: 'x; DROP TABLE y' }, 'schema'],
      [{ connectionString: 'redis://127.0.0.1' }, 'connectionString'],
      [{ connectionString: '' }, 'connectionString'],
      [{ connectionString: url, pollIntervalMs: 0 }, 'pollIntervalMs'],
      [{ connectionString: url, visibilityTimeoutMs: 10 }, 'visibilityTimeoutMs'],
      [{ connectionString: url, batchSize: 1.5 }, 'batchSize'],
      [{ connectionString: url, retentionMs: -1 }, 'retentionMs'],
      [{ connectionString: url, poolSize: 0 }, 'poolSize'],
      [{ connectionString: url, connectTimeoutMs: '1000' }, 'connectTimeoutMs'],
      [{ connectionString: url, queryTimeoutMs: 0 }, 'queryTimeoutMs'],
      [{ connectionString: url, applicationName: '' }, 'applicationName'],
      [{ persistence: {} }, 'persistence'],
    ];
    for (const [options, option] of cases) {
      expect(failure(() => resolvePostgresOptions(options, {}))).toMatchObject({ code: 'INVALID_OPTION', option });
    }
    expect(failure(() => resolvePostgresOptions({}, {}))).toMatchObject({
      code: 'INVALID_OPTION',
      option: 'connectionString',
    });
    expect(failure(() => resolvePostgresOptions({}, { DATABASE_URL: 'mysql://x' }))).toMatchObject({
      code: 'INVALID_OPTION',
      option: 'DATABASE_URL',
    });
    expect(resolvePostgresOptions({}, { DATABASE_URL: url })).toMatchObject({
      connectionString: url,
      schema: 'infra_messaging',
      visibilityTimeoutMs: 30_000,
      pollIntervalMs: 5000,
    });
  });

  it('creates its schema once when several processes start together, and closes idempotently', async () => {
    const adapters = await Promise.all(
      Array.from({ length: 4 }, () => createPostgresAdapter({ connectionString: databaseUrl, schema, poolSize: 2 })),
    );
    await Promise.all(adapters.map((adapter, i) => adapter.publish([wire(`t${String(i)}`)])));
    const tables = await adminQuery<{ n: number }>(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    expect(tables[0]?.n).toBe(3);
    for (const adapter of adapters) {
      await adapter.close();
      await adapter.close();
      await expect(adapter.publish([wire('t')])).rejects.toMatchObject({ code: 'CLOSED' });
    }
  });

  it('carries binary bodies and headers unchanged', async () => {
    const adapter = await createPostgresAdapter({ connectionString: databaseUrl, schema, poolSize: 2 });
    try {
      const subscription = await adapter.subscribe({ topic: 'bin', group: 'g', consumer: 'c', startFrom: 'latest' });
      const body = new Uint8Array([0, 1, 2, 255]);
      await adapter.publish([{ ...wire('bin'), body, headers: { a: 'b', 'x-y': 'é' } }]);
      const [delivery] = await subscription.fetch(10, new AbortController().signal);
      expect(Buffer.from(delivery?.message.body as Uint8Array)).toEqual(Buffer.from(body));
      expect(delivery?.message.headers).toEqual({ a: 'b', 'x-y': 'é' });
      expect(await adapter.backlog('bin', 'g')).toEqual({ pending: 1, lag: 0 });
      await subscription.ack(delivery ? [delivery] : []);
      expect(await adapter.backlog('bin', 'g')).toEqual({ pending: 0, lag: 0 });
      await subscription.close([]);
    } finally {
      await adapter.close();
    }
  });
});

function wire(topic: string) {
  return { id: `m-${topic}`, topic, key: null, headers: {}, timestamp: Date.now(), body: '{}' };
}

describe('postgres adapter retention', () => {
  it('deletes messages past retentionMs that no group still holds, and keeps those a group holds', async () => {
    const retained = `${schema}_retention`;
    const adapter = await createPostgresAdapter({
      connectionString: databaseUrl,
      schema: retained,
      poolSize: 2,
      retentionMs: 50,
    });
    try {
      const subscription = await adapter.subscribe({ topic: 'kept', group: 'g', consumer: 'c', startFrom: 'latest' });
      await adapter.publish([wire('kept'), wire('nobody-listens')]);
      const topics = async () =>
        (await adminQuery<{ topic: string }>(`SELECT topic FROM ${retained}.messages ORDER BY topic`)).map(
          (row) => row.topic,
        );
      await eventually(async () => (await topics()).length === 1, 10_000);
      expect(await topics()).toEqual(['kept']);
      await subscription.close([]);
    } finally {
      await adapter.close();
      await adminQuery(`DROP SCHEMA IF EXISTS ${retained} CASCADE`);
    }
  });
});
