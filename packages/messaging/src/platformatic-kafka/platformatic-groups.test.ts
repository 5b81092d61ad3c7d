import { eventually, kafkaBrokers, uniqueName } from '@infra/test-utils';
import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createPlatformaticKafkaAdapter } from './platformatic-adapter.js';

// The fault tests (a replica killed, the broker restarted, a rebalance, …) are in platformatic-kafka.faults.test.ts.
const brokers = kafkaBrokers('@infra/messaging @platformatic/kafka consumer group tests');

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
});
