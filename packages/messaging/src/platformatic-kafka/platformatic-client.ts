import type { Admin, Consumer, Producer } from '@platformatic/kafka';
import type {
  KafkaAdminLike,
  KafkaClientLike,
  KafkaConsumerLike,
  KafkaOutgoingMessage,
  KafkaProducerLike,
} from '../kafka/kafka-client.js';
import { PlatformaticConsumer } from './platformatic-consumer.js';

/** The classes of `@platformatic/kafka` the client layer creates. */
export interface PlatformaticModule {
  Producer: typeof Producer;
  Consumer: typeof Consumer;
  Admin: typeof Admin;
}

/** Connection settings shared by every client the layer creates. */
export interface PlatformaticConnection {
  clientId: string;
  bootstrapBrokers: string[];
  /** Per request (ms). */
  timeout: number;
  retries: number;
  /** Between retries (ms). */
  retryDelay: number;
}

const LATEST = -1n;
const EARLIEST = -2n;

/**
 * `@platformatic/kafka` behind {@link KafkaClientLike}: the Kafka adapter's group bookkeeping, commit
 * tracking and health run unchanged on it. Each `producer()`, `consumer()` and `admin()` call makes
 * its own client, closed by its `disconnect()`.
 */
export class PlatformaticKafkaClient implements KafkaClientLike {
  constructor(
    private readonly mod: PlatformaticModule,
    private readonly connection: PlatformaticConnection,
  ) {}

  producer(config?: { idempotent?: boolean }): KafkaProducerLike {
    const producer = new this.mod.Producer({
      ...this.connection,
      autocreateTopics: true,
      ...(config?.idempotent ? { idempotent: true } : {}),
    });
    return {
      // Asking the broker for its API versions opens the connection, as kafkajs' connect() does.
      connect: async () => {
        await producer.listApis();
      },
      disconnect: () => producer.close(),
      sendBatch: ({ topicMessages, acks }) =>
        producer.send({
          messages: topicMessages.flatMap(({ topic, messages }) =>
            messages.map((message) => toProduce(topic, message)),
          ),
          ...(acks === undefined ? {} : { acks }),
        }),
    };
  }

  consumer(config: {
    groupId: string;
    sessionTimeout?: number;
    heartbeatInterval?: number;
    maxWaitTimeInMs?: number;
    maxBytesPerPartition?: number;
  }): KafkaConsumerLike {
    return new PlatformaticConsumer(this.mod, this.connection, config);
  }

  admin(): KafkaAdminLike {
    const admin = new this.mod.Admin({ ...this.connection });
    const partitionsOf = async (topics: string[]): Promise<Map<string, number[]>> => {
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      return new Map(
        topics.map((topic) => [
          topic,
          Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, index) => index),
        ]),
      );
    };
    const listOffsets = async (
      topic: string,
      partitions: number[],
      timestamp: bigint,
    ): Promise<Map<number, bigint>> => {
      const listed = await admin.listOffsets({
        topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      });
      return new Map(
        listed.flatMap((entry) => entry.partitions.map((partition) => [partition.partitionIndex, partition.offset])),
      );
    };
    return {
      connect: async () => {
        await admin.listApis();
      },
      disconnect: () => admin.close(),
      describeCluster: () => admin.metadata({ topics: [], forceUpdate: true }),
      listTopics: () => admin.listTopics(),
      fetchTopicOffsets: async (topic) => {
        const partitions = (await partitionsOf([topic])).get(topic) ?? [];
        const [high, low] = await Promise.all([
          listOffsets(topic, partitions, LATEST),
          listOffsets(topic, partitions, EARLIEST),
        ]);
        return partitions.map((partition) => {
          const end = String(high.get(partition) ?? 0n);
          return { partition, offset: end, high: end, low: String(low.get(partition) ?? 0n) };
        });
      },
      // Every partition of the topics, -1 where the group has committed nothing (as kafkajs answers).
      fetchOffsets: async ({ groupId, topics }) => {
        const partitions = await partitionsOf(topics);
        const [group] = await admin.listConsumerGroupOffsets({
          groups: [{ groupId, topics: topics.map((name) => ({ name, partitionIndexes: partitions.get(name) ?? [] })) }],
        });
        const committed = new Map(
          (group?.topics ?? []).flatMap((topic) =>
            topic.partitions.map((p) => [`${topic.name}:${String(p.partitionIndex)}`, p.committedOffset]),
          ),
        );
        return topics.map((topic) => ({
          topic,
          partitions: (partitions.get(topic) ?? []).map((partition) => ({
            partition,
            offset: String(committed.get(`${topic}:${String(partition)}`) ?? -1n),
          })),
        }));
      },
    };
  }
}

function toProduce(
  topic: string,
  message: KafkaOutgoingMessage,
): { topic: string; key?: Buffer; value: Buffer; headers: Map<Buffer, Buffer>; timestamp: bigint } {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(message.headers)) headers.set(Buffer.from(name), Buffer.from(value));
  return {
    topic,
    ...(message.key === null ? {} : { key: Buffer.from(message.key) }),
    value: typeof message.value === 'string' ? Buffer.from(message.value) : message.value,
    headers,
    timestamp: BigInt(message.timestamp),
  };
}
