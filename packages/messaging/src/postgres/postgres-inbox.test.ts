import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Persistence } from '@infra/persistence';
import { createPgDriver } from '@infra/persistence/pg';
import { adminQuery, buildIfStale, databaseUrl, eventually, uniqueName } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pause } from '../../test/fault-kit.js';
import { MessageBus } from '../message-bus.js';
import type { ReceivedMessage } from '../subscription.js';
import { createPostgresAdapter, type PostgresAdapter } from './postgres-adapter.js';

const schema = uniqueName('messaging_pg_inbox');
const applicationName = `${schema}_consumer`;
const children = new Set<ChildProcess>();
let persistence: Persistence;
let adapter: PostgresAdapter;
let bus: MessageBus;
let n = 0;

beforeAll(async () => {
  buildIfStale(fileURLToPath(new URL('../..', import.meta.url)), 'postgres/index.js');
  await adminQuery(
    `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.effects (topic text NOT NULL, n int NOT NULL, message_id text NOT NULL, pid int NOT NULL)`,
  );
  const driver = await createPgDriver({ connectionString: databaseUrl, applicationName: `${schema}_app`, poolSize: 6 });
  persistence = new Persistence({ driver });
  adapter = await createPostgresAdapter({ persistence, schema, visibilityTimeoutMs: 1000, pollIntervalMs: 200 });
  bus = new MessageBus({ adapter, lagIntervalMs: 0 });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await bus.close({ timeoutMs: 100 });
  await persistence.close();
  await persistence.driver.close();
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

interface Consumer {
  child: ChildProcess;
  ready: Promise<void>;
  stopped: Promise<number>;
  committed: () => number;
  exited: Promise<void>;
}

function consumer(topic: string, stopAt: string, stopN: number, inbox: 'on' | 'off'): Consumer {
  const script = fileURLToPath(new URL('../../test-fixtures/postgres-inbox-consumer.mjs', import.meta.url));
  const child = fork(script, [databaseUrl, schema, topic, applicationName, stopAt, String(stopN), inbox], {
    stdio: 'inherit',
  });
  children.add(child);
  let committed = 0;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      children.delete(child);
      resolve();
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: { ready?: boolean }) => {
      if (message.ready) resolve();
    });
    void exited.then(() => {
      reject(new Error('the consumer exited before it was ready'));
    });
  });
  const stopped = new Promise<number>((resolve) => {
    child.on('message', (message: { stopped?: string; n?: number; committed?: number }) => {
      if (message.committed !== undefined) committed += 1;
      if (message.stopped !== undefined) resolve(message.n as number);
    });
  });
  return { child, ready, stopped, committed: () => committed, exited };
}

async function effects(topic: string): Promise<Map<number, number[]>> {
  const rows = await adminQuery<{ n: number; pid: number }>(`SELECT n, pid FROM ${schema}.effects WHERE topic = $1`, [
    topic,
  ]);
  const byN = new Map<number, number[]>();
  for (const row of rows) byN.set(row.n, [...(byN.get(row.n) ?? []), row.pid]);
  return byN;
}

async function leftInQueue(topic: string): Promise<number> {
  const rows = await adminQuery<{ left: number }>(
    `SELECT count(*)::int AS left FROM ${schema}.deliveries d JOIN ${schema}.queues q ON q.id = d.queue_id
     WHERE q.topic = $1`,
    [topic],
  );
  return rows[0]?.left ?? -1;
}

/**
 * A consumer is SIGKILLed while it handles a stream (at `stopAt` for message `stopN`, or once some
 * messages are done), a second one takes over, and the effects are counted.
 */
async function killAndTakeOver(
  stopAt: 'mid-transaction' | 'after-commit' | 'anywhere',
  inbox: 'on' | 'off',
  total = 200,
  stopN = 40,
): Promise<{ topic: string; byN: Map<number, number[]>; first: ChildProcess }> {
  const topic = `inbox.${stopAt}.${String(++n)}`;
  const first = consumer(topic, stopAt, stopN, inbox);
  await first.ready;
  for (let i = 0; i < total; i += 50) {
    await bus.publishBatch(
      Array.from({ length: Math.min(50, total - i) }, (_, j) => ({ topic, payload: { n: i + j } })),
    );
  }
  if (stopAt === 'anywhere') await eventually(() => first.committed() >= total / 4, 30_000);
  else await first.stopped;
  first.child.kill('SIGKILL');
  await first.exited;
  const second = consumer(topic, 'none', -1, inbox);
  await second.ready;
  await eventually(async () => (await effects(topic)).size === total && (await leftInQueue(topic)) === 0, 30_000);
  // Past the visibility timeout: a delivery still held by the dead consumer would be back by now.
  await pause(1500);
  second.child.kill('SIGKILL');
  await second.exited;
  return { topic, byN: await effects(topic), first: first.child };
}

describe('postgres transactional inbox', () => {
  it('acknowledges in the handler transaction, and not when it rolls back', async () => {
    const topic = `inbox.local.${String(++n)}`;
    const seen: ReceivedMessage[] = [];
    const subscription = bus.subscribe(
      topic,
      async (_payload, message) => {
        seen.push(message);
        await persistence.withTransaction(async () => {
          await persistence.query(`INSERT INTO ${schema}.effects (topic, n, message_id, pid) VALUES ($1, $2, $3, 0)`, [
            topic,
            message.attempt,
            message.id,
          ]);
          await adapter.inbox.ack(message);
          if (message.attempt === 1) throw new Error('rolled back after the inbox ack');
        });
      },
      { retry: { maxAttempts: 3, initialDelayMs: 5 } },
    );
    await subscription.ready();
    await bus.publish(topic, { job: 1 });
    await eventually(async () => (await effects(topic)).size === 1 && (await leftInQueue(topic)) === 0, 10_000);
    expect([...(await effects(topic)).keys()]).toEqual([2]);
    expect(seen.map((message) => message.attempt)).toEqual([1, 2]);
    await subscription.close();
  });

  it('refuses an ack outside a transaction, of an unknown message, and a second one', async () => {
    const topic = `inbox.errors.${String(++n)}`;
    const failures: unknown[] = [];
    const subscription = bus.subscribe(topic, async (_payload, message) => {
      failures.push(await adapter.inbox.ack(message).catch((error: unknown) => error));
      failures.push(
        await persistence
          .withTransaction(() => adapter.inbox.ack({ ...message, id: 'unknown', headers: {} }))
          .catch((error: unknown) => error),
      );
      await persistence.withTransaction(() => adapter.inbox.ack(message));
      failures.push(
        await persistence.withTransaction(() => adapter.inbox.ack(message)).catch((error: unknown) => error),
      );
    });
    await subscription.ready();
    await bus.publish(topic, { job: 1 });
    await eventually(() => failures.length === 3, 10_000);
    expect(failures).toMatchObject([
      { code: 'NO_TRANSACTION' },
      { code: 'INVALID_ARGUMENT', option: 'message' },
      { code: 'LEASE_LOST' },
    ]);
    await subscription.close();
  });

  it('has every effect exactly once when the consumer is SIGKILLed mid-transaction', async () => {
    const { byN, first } = await killAndTakeOver('mid-transaction', 'on');
    for (const [, pids] of byN) expect(pids).toHaveLength(1);
    // The killed transaction rolled back: the survivor wrote that effect.
    expect(byN.get(40)).not.toContain(first.pid);
  }, 90_000);

  it('has every effect exactly once when the consumer is SIGKILLed after a commit, before the bus ack', async () => {
    const { byN, first } = await killAndTakeOver('after-commit', 'on');
    for (const [, pids] of byN) expect(pids).toHaveLength(1);
    // Committed with its acknowledgement: never handled again.
    expect(byN.get(40)).toEqual([first.pid]);
  }, 90_000);

  it('has every effect exactly once when the consumer is SIGKILLed anywhere mid-stream', async () => {
    const { byN } = await killAndTakeOver('anywhere', 'on', 600);
    expect(byN.size).toBe(600);
    for (const [, pids] of byN) expect(pids).toHaveLength(1);
  }, 90_000);

  it('without the inbox, the same kill after a commit repeats the effect (what the inbox prevents)', async () => {
    const { byN, first } = await killAndTakeOver('after-commit', 'off');
    expect(byN.get(40)).toHaveLength(2);
    expect(byN.get(40)).toContain(first.pid);
  }, 90_000);
});
