import {
  adminQuery,
  closedPort,
  databaseUrl,
  eventually,
  startTcpProxy,
  terminateBackends,
  uniqueName,
  type TcpProxy,
} from '@infra/test-utils';
import { Persistence } from '@infra/persistence';
import { createPgDriver } from '@infra/persistence/pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultBuses, healthStatus as status } from '../../test/fault-kit.js';
import type { MessageBus } from '../message-bus.js';
import { createPostgresAdapter } from './postgres-adapter.js';
import type { PostgresAdapterOptions } from './postgres-options.js';

// Faults go through a TCP proxy of this file's own in front of the shared Postgres, or end only
// this file's backends (by application_name): the server itself is never stopped.
const schema = uniqueName('messaging_pg_faults');
const applicationName = `${schema}_consumer`;
const faults = new FaultBuses();
const { connectionErrors } = faults;
let proxy: TcpProxy;
let producer: MessageBus;
let n = 0;

function proxiedUrl(): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

async function bus(options: PostgresAdapterOptions): Promise<MessageBus> {
  const adapter = await createPostgresAdapter({
    schema,
    visibilityTimeoutMs: 1000,
    connectTimeoutMs: 1000,
    queryTimeoutMs: 1500,
    ...options,
  });
  return faults.bus(adapter);
}

const wait = 30_000;

/** Subscribes and records the `i` of each message handled (with duplicates, if any). */
async function consume(b: MessageBus, topic: string): Promise<number[]> {
  const handled: number[] = [];
  await b
    .subscribe(topic, (payload: { i: number }) => void handled.push(payload.i), { group: 'faults', concurrency: 4 })
    .ready();
  return handled;
}

async function publishRange(topic: string, from: number, to: number): Promise<void> {
  await producer.publishBatch(Array.from({ length: to - from }, (_, k) => ({ topic, payload: { i: from + k } })));
}

const range = (to: number): number[] => [...Array(to).keys()];

beforeAll(async () => {
  const url = new URL(databaseUrl);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  producer = await bus({ connectionString: databaseUrl });
}, 60_000);

afterAll(async () => {
  await faults.close(500);
  await proxy.close();
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe('postgres adapter faults', () => {
  it('loses nothing while its connections are cut, fails health meanwhile, and recovers', async () => {
    const topic = `faults.cut.${String(++n)}`;
    const consumer = await bus({ connectionString: proxiedUrl(), pollIntervalMs: 500 });
    const handled = await consume(consumer, topic);
    await publishRange(topic, 0, 20);
    await eventually(() => handled.length >= 20, wait);
    await proxy.cut();
    await eventually(async () => (await status(consumer)) === 'fail', wait);
    await publishRange(topic, 20, 40);
    await proxy.restore();
    await eventually(() => new Set(handled).size === 40, wait);
    await eventually(async () => (await status(consumer)) === 'pass', wait);
    expect([...new Set(handled)].sort((a, b) => a - b)).toEqual(range(40));
    expect(connectionErrors.length).toBeGreaterThan(0);
  });

  it('does not hang on a stalled network: health fails within its deadline, consuming resumes after', async () => {
    const topic = `faults.stall.${String(++n)}`;
    const consumer = await bus({ connectionString: proxiedUrl(), pollIntervalMs: 500 });
    const handled = await consume(consumer, topic);
    await publishRange(topic, 0, 10);
    await eventually(() => handled.length >= 10, wait);
    proxy.blackhole();
    const started = Date.now();
    expect(await status(consumer)).toBe('fail');
    // The probe's own deadline (1 s) bounds the check, with room for a busy machine.
    expect(Date.now() - started).toBeLessThan(10_000);
    // A publish on the stalled connections fails within the statement bound (1.5 s) instead of hanging.
    const publishing = Date.now();
    await expect(consumer.publish(topic, { i: -1 })).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
    expect(Date.now() - publishing).toBeLessThan(10_000);
    await publishRange(topic, 10, 30);
    await proxy.restore();
    await eventually(() => new Set(handled).size === 30, wait);
    await eventually(async () => (await status(consumer)) === 'pass', wait);
    expect([...new Set(handled)].sort((a, b) => a - b)).toEqual(range(30));
  });

  it('re-establishes LISTEN after its backends are terminated, and warns until it has', async () => {
    const topic = `faults.terminate.${String(++n)}`;
    // A poll this slow never fires during the test: prompt delivery below is the NOTIFY's doing.
    const adapter = await createPostgresAdapter({
      connectionString: databaseUrl,
      schema,
      applicationName,
      pollIntervalMs: 60_000,
      connectTimeoutMs: 1000,
    });
    const consumer = faults.bus(adapter);
    const handled = await consume(consumer, topic);
    await publishRange(topic, 0, 5);
    await eventually(() => handled.length >= 5, wait);
    const errorsBefore = connectionErrors.length;
    expect(await terminateBackends(applicationName)).toBeGreaterThan(0);
    await eventually(() => connectionErrors.length > errorsBefore, wait);
    await eventually(() => adapter.problems().length === 0, wait);
    await publishRange(topic, 5, 15);
    await eventually(() => new Set(handled).size === 15, 20_000);
    await eventually(async () => (await status(consumer)) === 'pass', wait);
    expect([...new Set(handled)].sort((a, b) => a - b)).toEqual(range(15));
  });

  it('warns while only its LISTEN connection is down, keeps consuming by polling, and passes once it is back', async () => {
    const topic = `faults.listener.${String(++n)}`;
    const driver = await createPgDriver({
      connectionString: databaseUrl,
      applicationName: `${schema}_app`,
      poolSize: 4,
    });
    const persistence = new Persistence({ driver });
    try {
      // Statements go through the persistence's pool; only the LISTEN connection crosses the proxy.
      const consumer = await bus({ persistence, connectionString: proxiedUrl(), pollIntervalMs: 300 });
      const handled = await consume(consumer, topic);
      await eventually(async () => (await status(consumer)) === 'pass', wait);
      await proxy.cut();
      await eventually(async () => (await consumer.healthCheck()).status === 'warn', wait);
      expect((await consumer.healthCheck()).output).toMatch(/LISTEN connection/);
      await publishRange(topic, 0, 10);
      await eventually(() => new Set(handled).size === 10, wait);
      await proxy.restore();
      await eventually(async () => (await status(consumer)) === 'pass', wait);
      await consumer.close({ timeoutMs: 500 });
    } finally {
      await persistence.close();
      await driver.close();
    }
  });

  it('reports health fail when Postgres is not there at all, without hanging', async () => {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(await closedPort());
    const unreachable = await bus({ connectionString: url.toString() });
    const health = await unreachable.healthCheck();
    expect(health.status).toBe('fail');
    await expect(unreachable.publish('faults.nowhere', { i: 0 })).rejects.toMatchObject({
      code: 'PUBLISH_FAILED',
      isRetryable: true,
    });
  });
});
