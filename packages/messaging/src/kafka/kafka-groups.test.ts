import { createKafkaTopics, eventually, kafkaBrokers, uniqueName } from '@infra/test-utils';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createKafkaAdapter } from './kafka-adapter.js';

// The fault tests (a replica killed, the broker restarted, a rebalance, …) are in kafka.faults.test.ts.
const brokers = kafkaBrokers('@infra/messaging kafkajs consumer group tests');

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
  const bus = async (group: string): Promise<MessageBus> => {
    const adapter = await createKafkaAdapter({ brokers, clientId: prefix, sessionTimeoutMs: 6000, heartbeatMs: 500 });
    const created = new MessageBus({ adapter, group, lagIntervalMs: 0 });
    buses.push(created);
    return created;
  };
  const topics = async (label: string): Promise<[string, string]> => {
    const names: [string, string] = [`${prefix}.${label}.a`, `${prefix}.${label}.b`];
    await createKafkaTopics(
      admin,
      names.map((topic) => ({ topic, numPartitions: 3 })),
    );
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
});
