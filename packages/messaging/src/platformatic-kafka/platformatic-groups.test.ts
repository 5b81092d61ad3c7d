import { eventually, startPrivateKafka, uniqueName } from '@infra/test-utils';
import * as platformatic from '@platformatic/kafka';
import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import type { KafkaClientLike } from '../kafka/kafka-client.js';
import { PlatformaticKafkaAdapter, createPlatformaticKafkaAdapter } from './platformatic-adapter.js';
import { PlatformaticKafkaClient } from './platformatic-client.js';

const brokers = process.env.KAFKA_BROKERS;

/** What one handler call saw. */
type Seen = readonly [topic: string, key: string | null, seq: number, by: string];

/** The first delivery of each message, checking that each key's sequence only grows; returns the repeats. */
function firstDeliveries(seen: readonly Seen[]): { distinct: number; repeats: number } {
  const firsts = new Set<string>();
  const highest = new Map<string, number>();
  for (const [topic, key, seq] of seen) {
    const id = `${topic}|${String(key)}|${String(seq)}`;
    if (firsts.has(id)) continue;
    firsts.add(id);
    const stream = `${topic}|${String(key)}`;
    expect(seq, `per-key order of ${stream}`).toBeGreaterThan(highest.get(stream) ?? -1);
    highest.set(stream, seq);
  }
  return { distinct: firsts.size, repeats: seen.length - firsts.size };
}

describe.skipIf(!brokers)('platformatic-kafka consumer groups on a real broker', () => {
  const prefix = uniqueName('pkafka_groups').replaceAll('_', '-');
  const opened: MessageBus[] = [];
  const open = async (group: string, bootstrap = brokers): Promise<MessageBus> => {
    const adapter = await createPlatformaticKafkaAdapter({
      brokers: bootstrap,
      clientId: prefix,
      sessionTimeoutMs: 6000,
      heartbeatMs: 500,
      connectTimeoutMs: 5000,
    });
    const created = new MessageBus({ adapter, group, lagIntervalMs: 0 });
    opened.push(created);
    return created;
  };
  const createTopics = async (bootstrap: string, names: string[]): Promise<void> => {
    const admin = new Admin({ clientId: prefix, bootstrapBrokers: [bootstrap], retries: 20, retryDelay: 500 });
    try {
      await admin.createTopics({ topics: names, partitions: 3, replicas: 1 });
    } finally {
      await admin.close();
    }
  };
  /** Sequences `from` to `to` of 8 keys on each topic, one batch per sequence. */
  const send = async (bus: MessageBus, names: readonly string[], from: number, to: number): Promise<void> => {
    for (let seq = from; seq < to; seq++)
      await bus.publishBatch(
        names.flatMap((topic) =>
          Array.from({ length: 8 }, (_, k) => ({ topic, key: `k${String(k)}`, payload: { seq } })),
        ),
      );
  };
  const consume = async (bus: MessageBus, names: readonly string[], seen: Seen[], by: string): Promise<void> => {
    const record = (payload: { seq: number }, message: { topic: string; key: string | null }) =>
      void seen.push([message.topic, message.key, payload.seq, by]);
    const subscriptions = bus.consumer.subscribeAll(Object.fromEntries(names.map((topic) => [topic, record])), {
      startFrom: 'earliest',
    });
    await Promise.all(subscriptions.map((subscription) => subscription.ready()));
  };

  afterAll(async () => {
    await Promise.all(opened.map((bus) => bus.close({ timeoutMs: 1000 })));
  });

  it('two buses share two topics of three partitions: every message handled once, in order per key', async () => {
    const names = [`${prefix}.shared.a`, `${prefix}.shared.b`];
    await createTopics(brokers ?? '', names);
    const seen: Seen[] = [];
    const first = await open(`${prefix}-shared`);
    await consume(first, names, seen, 'first');
    await consume(await open(`${prefix}-shared`), names, seen, 'second');
    await send(first, names, 0, 40);
    await eventually(() => firstDeliveries(seen).distinct >= 640, 90_000);
    expect(firstDeliveries(seen)).toEqual({ distinct: 640, repeats: 0 });
    expect(new Set(seen.map((entry) => entry[3]))).toEqual(new Set(['first', 'second']));
  }, 120_000);

  it('members reading different topics of one group: every partition of every topic is consumed', async () => {
    const [only, both] = [`${prefix}.split.only`, `${prefix}.split.both`];
    await createTopics(brokers ?? '', [only, both]);
    const seen: Seen[] = [];
    const wide = await open(`${prefix}-split`);
    await consume(wide, [only, both], seen, 'wide');
    // This member reads one topic: the assignment gives it none of the other's partitions.
    await consume(await open(`${prefix}-split`), [both], seen, 'narrow');
    await send(wide, [only, both], 0, 20);
    await eventually(() => firstDeliveries(seen).distinct >= 320, 90_000);
    expect(firstDeliveries(seen).distinct).toBe(320);
    expect(seen.filter(([topic, , , by]) => topic === only && by === 'narrow')).toEqual([]);
  }, 120_000);

  it('rebalance: the old owner commits nothing for a partition it lost once the new owner started', async () => {
    const topic = `${prefix}.rebalance`;
    await createTopics(brokers ?? '', [topic]);
    const client = new PlatformaticKafkaClient(platformatic, {
      clientId: prefix,
      bootstrapBrokers: (brokers ?? '').split(','),
      timeout: 3000,
      retries: 8,
      retryDelay: 250,
    });
    const commits: { by: string; at: number; partition: number }[] = [];
    const firstHandled = new Map<string, number>();
    /** The real client, with each consumer's commits recorded. */
    const recording = (by: string): KafkaClientLike => ({
      producer: (config) => client.producer(config),
      admin: () => client.admin(),
      consumer: (config) => {
        const consumer = client.consumer(config);
        const commit = consumer.commitOffsets?.bind(consumer);
        consumer.commitOffsets = (offsets) => {
          for (const entry of offsets) commits.push({ by, at: Date.now(), partition: entry.partition });
          return commit ? commit(offsets) : Promise.resolve();
        };
        return consumer;
      },
    });
    const member = async (by: string): Promise<MessageBus> => {
      const adapter = new PlatformaticKafkaAdapter({ kafka: recording(by), sessionTimeoutMs: 6000, heartbeatMs: 500 });
      const created = new MessageBus({ adapter, group: `${prefix}-rebalance`, lagIntervalMs: 0 });
      opened.push(created);
      const handle = async (): Promise<void> => {
        if (!firstHandled.has(by)) firstHandled.set(by, Date.now());
        await new Promise((resolve) => setTimeout(resolve, 20));
      };
      await created.subscribe(topic, handle, { startFrom: 'earliest', concurrency: 4 }).ready();
      return created;
    };
    const old = await member('old');
    await send(old, [topic], 0, 30);
    await eventually(() => commits.some((entry) => entry.by === 'old'), 60_000);
    await member('new');
    await eventually(() => commits.some((entry) => entry.by === 'new'), 90_000);
    await eventually(() => firstHandled.has('new'), 30_000);
    // Commits the old owner might still send arrive within this pause.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const started = firstHandled.get('new') ?? Infinity;
    const moved = new Set(commits.filter((entry) => entry.by === 'new').map((entry) => entry.partition));
    expect(moved.size).toBeGreaterThan(0);
    expect(commits.filter((c) => c.by === 'old' && c.at >= started && moved.has(c.partition))).toEqual([]);
  }, 150_000);

  it('a broker restarted mid-stream: the consumer recovers by itself and nothing is lost', async () => {
    const broker = await startPrivateKafka();
    try {
      const names = [`${prefix}.restart.a`, `${prefix}.restart.b`];
      await createTopics(broker.bootstrap, names);
      const bus = await open(`${prefix}-restart`, broker.bootstrap);
      const seen: Seen[] = [];
      await consume(bus, names, seen, 'restarted');
      await send(bus, names, 0, 10);
      await eventually(() => firstDeliveries(seen).distinct >= 160, 60_000);
      await broker.kill();
      await broker.start();
      // Publishing waits for the broker to lead its partitions again; the consumer is left alone.
      await eventually(async () => {
        try {
          await send(bus, names, 10, 11);
          return true;
        } catch {
          return false;
        }
      }, 120_000);
      await send(bus, names, 11, 20);
      await eventually(() => firstDeliveries(seen).distinct >= 320, 120_000);
      expect(firstDeliveries(seen).distinct).toBe(320);
      await eventually(async () => (await bus.healthCheck()).status === 'pass', 60_000);
    } finally {
      await Promise.all(opened.splice(opened.length - 1).map((bus) => bus.close({ timeoutMs: 1000 })));
      await broker.close();
    }
  }, 240_000);
});
