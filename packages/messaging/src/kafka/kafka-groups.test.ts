import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedPort, eventually, startPrivateKafka, uniqueName } from '@infra/test-utils';
import { Kafka, logLevel, type ConsumerConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createKafkaAdapter } from './kafka-adapter.js';
import type { KafkaClientLike } from './kafka-client.js';

const brokers = process.env.KAFKA_BROKERS;
if (!brokers)
  console.log('[@infra/messaging] Kafka group and fault tests skipped: set KAFKA_BROKERS=host:port to run them');

interface Handled {
  topic: string;
  key: string | null;
  seq: number;
  by: string;
}

/** Checks what a run handled: every message, per-key order of first deliveries; returns the duplicates. */
function verify(handled: readonly Handled[], expected: number): number {
  const seen = new Set<string>();
  const lastByKey = new Map<string, number>();
  for (const entry of handled) {
    const id = `${entry.topic}/${String(entry.key)}/${String(entry.seq)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const key = `${entry.topic}/${String(entry.key)}`;
    expect(entry.seq, `order of ${key}`).toBeGreaterThan(lastByKey.get(key) ?? -1);
    lastByKey.set(key, entry.seq);
  }
  expect(seen.size).toBe(expected);
  return handled.length - seen.size;
}

describe.skipIf(!brokers)('kafka consumer groups on a real broker', () => {
  const prefix = uniqueName('kafka_groups').replaceAll('_', '-');
  const kafka = new Kafka({ clientId: prefix, brokers: (brokers ?? '').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const buses: MessageBus[] = [];
  const children: ChildProcess[] = [];
  const bus = async (group: string): Promise<MessageBus> => {
    const adapter = await createKafkaAdapter({ brokers, clientId: prefix, sessionTimeoutMs: 6000, heartbeatMs: 500 });
    const created = new MessageBus({ adapter, group, lagIntervalMs: 0 });
    buses.push(created);
    return created;
  };
  const topics = async (label: string): Promise<[string, string]> => {
    const names: [string, string] = [`${prefix}.${label}.a`, `${prefix}.${label}.b`];
    await admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
    return names;
  };
  const publish = async (publisher: MessageBus, names: readonly string[], from: number, to: number) => {
    for (let seq = from; seq < to; seq++) {
      await publisher.publishBatch(
        names.flatMap((topic) =>
          Array.from({ length: 8 }, (_, k) => ({ topic, payload: { seq }, key: `key-${String(k)}` })),
        ),
      );
    }
  };

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(buses.map((created) => created.close({ timeoutMs: 1000 })));
    await admin.disconnect();
  });

  it('two replicas share two topics of three partitions: every message handled once, in order per key', async () => {
    const names = await topics('replicas');
    const group = `${prefix}-replicas`;
    const handled: Handled[] = [];
    const replica = async (by: string) => {
      const created = await bus(group);
      const handler = (payload: { seq: number }, message: { topic: string; key: string | null }) =>
        void handled.push({ topic: message.topic, key: message.key, seq: payload.seq, by });
      const subscriptions = created.consumer.subscribeAll(Object.fromEntries(names.map((topic) => [topic, handler])), {
        startFrom: 'earliest',
      });
      await Promise.all(subscriptions.map((subscription) => subscription.ready()));
      return created;
    };
    const first = await replica('first');
    await replica('second');
    await publish(first, names, 0, 40);
    await eventually(
      () => new Set(handled.map((h) => `${h.topic}/${String(h.key)}/${String(h.seq)}`)).size >= 640,
      90_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(verify(handled, 640)).toBe(0);
    // The partitions were spread: both replicas read some of each topic's partitions.
    expect(handled.some((h) => h.by === 'first')).toBe(true);
    expect(handled.some((h) => h.by === 'second')).toBe(true);
  }, 120_000);

  it('a replica killed with SIGKILL mid-stream: its partitions move, nothing is lost, few duplicates', async () => {
    const names = await topics('killed');
    const group = `${prefix}-killed`;
    const handled: Handled[] = [];
    const survivor = await bus(group);
    const handler = (payload: { seq: number }, message: { topic: string; key: string | null }) =>
      void handled.push({ topic: message.topic, key: message.key, seq: payload.seq, by: 'survivor' });
    await Promise.all(
      survivor.consumer
        .subscribeAll(Object.fromEntries(names.map((topic) => [topic, handler])), { startFrom: 'earliest' })
        .map((subscription) => subscription.ready()),
    );
    const script = fileURLToPath(new URL('../../test-fixtures/kafka-replica.mjs', import.meta.url));
    const child = fork(script, [brokers ?? '', group, names.join(',')], { stdio: 'inherit' });
    children.push(child);
    let byChild = 0;
    child.on('message', (message: { handled?: Omit<Handled, 'by'> }) => {
      if (!message.handled) return;
      byChild += 1;
      handled.push({ ...message.handled, by: 'child' });
    });
    await new Promise<void>((resolve, reject) => {
      child.on('message', (message: { ready?: boolean }) => {
        if (message.ready) resolve();
      });
      child.once('exit', (code) => {
        reject(new Error(`replica exited with ${String(code)} before it was ready`));
      });
    });
    await publish(survivor, names, 0, 20);
    await eventually(() => byChild >= 20, 60_000);
    child.kill('SIGKILL');
    await publish(survivor, names, 20, 40);
    await eventually(
      () => new Set(handled.map((h) => `${h.topic}/${String(h.key)}/${String(h.seq)}`)).size >= 640,
      90_000,
    );
    const duplicates = verify(handled, 640);
    console.log(`[kafka] SIGKILL of a replica: ${String(byChild)} handled by it, ${String(duplicates)} handled twice`);
    // What comes again: what the killed replica handled without its commit reaching the broker, and
    // what the survivor had in flight (at most maxInFlight, 100) when the group rebalanced.
    expect(duplicates).toBeLessThanOrEqual(byChild + 100);
  }, 150_000);

  it('rebalance: the old owner commits nothing for a partition it lost once the new owner started', async () => {
    const names = await topics('rebalance');
    const group = `${prefix}-rebalance`;
    const commits: { by: string; at: number; partition: number }[] = [];
    const firstHandled = new Map<string, number>();
    /** The real kafkajs client, with each consumer's commits recorded. */
    const recording = (by: string): KafkaClientLike => ({
      producer: (config) => kafka.producer(config),
      admin: () => kafka.admin(),
      consumer: (config) => {
        const consumer = kafka.consumer(config as ConsumerConfig);
        const commit = consumer.commitOffsets.bind(consumer);
        consumer.commitOffsets = (offsets) => {
          const at = Date.now();
          for (const entry of offsets) commits.push({ by, at, partition: entry.partition });
          return commit(offsets);
        };
        return consumer;
      },
    });
    const replica = async (by: string) => {
      const adapter = await createKafkaAdapter({ kafka: recording(by), sessionTimeoutMs: 6000, heartbeatMs: 500 });
      const created = new MessageBus({ adapter, group, lagIntervalMs: 0 });
      buses.push(created);
      await created
        .subscribe(
          names[0],
          async () => {
            if (!firstHandled.has(by)) firstHandled.set(by, Date.now());
            await new Promise((resolve) => setTimeout(resolve, 20));
          },
          { startFrom: 'earliest', concurrency: 4 },
        )
        .ready();
    };
    await replica('old');
    await publish(buses[buses.length - 1] as MessageBus, [names[0]], 0, 30);
    await eventually(() => commits.some((c) => c.by === 'old'), 60_000);
    await replica('new');
    // The old owner may have handled everything before the new one joined (a busy machine makes
    // that likely): more messages give the new owner something to handle and commit.
    await publish(buses[buses.length - 1] as MessageBus, [names[0]], 30, 60);
    await eventually(() => commits.some((c) => c.by === 'new'), 90_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const started = firstHandled.get('new') ?? Infinity;
    const moved = new Set(commits.filter((c) => c.by === 'new').map((c) => c.partition));
    const late = commits.filter((c) => c.by === 'old' && c.at >= started && moved.has(c.partition));
    expect(moved.size).toBeGreaterThan(0);
    expect(late).toEqual([]);
  }, 150_000);

  it('a broker restarted mid-stream: the consumer recovers by itself and nothing is lost', async () => {
    const broker = await startPrivateKafka();
    const privateAdmin = new Kafka({
      clientId: prefix,
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await privateAdmin.connect();
      const names: [string, string] = [`${prefix}.restart.a`, `${prefix}.restart.b`];
      await privateAdmin.createTopics({
        topics: names.map((topic) => ({ topic, numPartitions: 3 })),
        waitForLeaders: true,
      });
      await privateAdmin.disconnect();
      const adapter = await createKafkaAdapter({
        brokers: broker.bootstrap,
        clientId: prefix,
        sessionTimeoutMs: 6000,
        heartbeatMs: 500,
        connectTimeoutMs: 5000,
      });
      const restarted = new MessageBus({ adapter, group: `${prefix}-restart`, lagIntervalMs: 0 });
      buses.push(restarted);
      const handled: Handled[] = [];
      const handler = (payload: { seq: number }, message: { topic: string; key: string | null }) =>
        void handled.push({ topic: message.topic, key: message.key, seq: payload.seq, by: 'restarted' });
      await Promise.all(
        restarted.consumer
          .subscribeAll(Object.fromEntries(names.map((topic) => [topic, handler])), { startFrom: 'earliest' })
          .map((subscription) => subscription.ready()),
      );
      await publish(restarted, names, 0, 10);
      await eventually(() => handled.length >= 160, 60_000);
      await broker.kill();
      await broker.start();
      // Publishing waits for the broker to lead its partitions again; the consumer is left alone.
      await eventually(async () => {
        try {
          await publish(restarted, names, 10, 11);
          return true;
        } catch {
          return false;
        }
      }, 120_000);
      await publish(restarted, names, 11, 20);
      await eventually(
        () => new Set(handled.map((h) => `${h.topic}/${String(h.key)}/${String(h.seq)}`)).size >= 320,
        120_000,
      );
      verify(handled, 320);
      await eventually(async () => (await restarted.healthCheck()).status === 'pass', 60_000);
    } finally {
      await Promise.all(buses.splice(buses.length - 1).map((created) => created.close({ timeoutMs: 1000 })));
      await broker.close();
    }
  }, 240_000);

  it('fails with ADAPTER_UNAVAILABLE within the connect timeout when no broker answers', async () => {
    const port = await closedPort();
    const adapter = await createKafkaAdapter({ brokers: `127.0.0.1:${String(port)}`, connectTimeoutMs: 1500 });
    const unreachable = new MessageBus({ adapter, lagIntervalMs: 0, healthTimeoutMs: 5000 });
    buses.push(unreachable);
    await expect(adapter.ping()).rejects.toMatchObject({ code: 'ADAPTER_UNAVAILABLE' });
    // The bus reports a transport that is away as a failed (retryable) publish, the adapter's verdict as its cause.
    await expect(unreachable.publish('orders', { n: 1 })).rejects.toMatchObject({
      code: 'PUBLISH_FAILED',
      isRetryable: true,
      message: expect.stringContaining('within 1500 ms'),
      cause: { code: 'ADAPTER_UNAVAILABLE' },
    });
    const errors: unknown[] = [];
    unreachable.on('error', (event) => void errors.push(event.error));
    unreachable.subscribe('orders', () => undefined);
    await eventually(() => errors.length > 0, 30_000);
    expect(errors[0]).toMatchObject({ code: 'ADAPTER_UNAVAILABLE' });
    expect((await unreachable.healthCheck()).status).toBe('fail');
  }, 60_000);
});

// The fault tests run the built package in a child process: build it if it is missing or older than
// a source file. Never rebuilt when fresh: other test tasks (the demo's) import the same dist/
// while this one runs, and a rebuild empties it first.
beforeAll(() => {
  if (!brokers) return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const built = join(root, 'dist', 'index.js');
  const newestSource = Math.max(
    ...readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => statSync(join(root, 'src', file)).mtimeMs),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return;
  execFileSync('pnpm', ['exec', 'tsdown', '--log-level', 'error'], { cwd: root, stdio: 'inherit' });
}, 120_000);
