import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaTopics } from './kafka-topics.js';
import { kafkaBrokers, uniqueName } from './services.js';

const brokers = kafkaBrokers('createKafkaTopics tests');

describe.skipIf(!brokers)('createKafkaTopics on a real broker', () => {
  const prefix = uniqueName('topics').replaceAll('_', '-');
  const admin = new Kafka({
    clientId: prefix,
    brokers: (brokers ?? '').split(','),
    logLevel: logLevel.NOTHING,
  }).admin();

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it('returns once every partition of every topic has a leader', async () => {
    const names = [`${prefix}.a`, `${prefix}.b`];
    await createKafkaTopics(
      admin,
      names.map((topic, index) => ({ topic, numPartitions: index + 2 })),
    );
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    const leaders = names.map((name) => topics.find((entry) => entry.name === name)?.partitions.map((p) => p.leader));
    expect(leaders.map((list) => list?.length)).toEqual([2, 3]);
    expect(leaders.flat().every((leader) => typeof leader === 'number' && leader >= 0)).toBe(true);
  });

  it('waits for a topic that already exists like for a new one', async () => {
    const topic = `${prefix}.again`;
    await createKafkaTopics(admin, [{ topic, numPartitions: 3 }]);
    await createKafkaTopics(admin, [{ topic, numPartitions: 3 }]);
    expect((await admin.fetchTopicOffsets(topic)).length).toBe(3);
  });

  it('fails after its deadline naming the topics when their partitions never all get a leader', async () => {
    const topic = `${prefix}.fewer`;
    await createKafkaTopics(admin, [{ topic, numPartitions: 1 }]);
    // Asking for more partitions than the existing topic has: the wait can never end.
    await expect(createKafkaTopics(admin, [{ topic, numPartitions: 2 }], 500)).rejects.toThrow(
      `Kafka topics ${topic} not ready within 500 ms: no leader yet for ${topic}`,
    );
  });
});
