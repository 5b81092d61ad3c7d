import type {
  AdapterCapabilities,
  AdapterSubscription,
  Backlog,
  MessageAdapter,
  SubscribeSpec,
  WireMessage,
} from '../adapter.js';
import { InvalidOptionError, MessagingError, missingPeer } from '../errors.js';
import { integer, nonEmptyString, plainObject } from '../validate.js';
import type { KafkaAdminLike, KafkaClientLike, KafkaOutgoingMessage, KafkaProducerLike } from './kafka-client.js';
import { KafkaTopicSubscription, MESSAGE_ID_HEADER } from './kafka-subscription.js';

export interface KafkaAdapterOptions {
  /**
   * A client to use (a kafkajs `Kafka`, or your own behind {@link KafkaClientLike}); never disconnected by the adapter.
   * @default none: one is created from `brokers`
   */
  kafka?: KafkaClientLike;
  /** Brokers of a kafkajs client the adapter creates. @default process.env.KAFKA_BROKERS (comma-separated) */
  brokers?: string[] | string;
  /** kafkajs `clientId` of a client the adapter creates. @default 'infra-messaging' */
  clientId?: string;
  /** Idempotent producer: retries never write a message twice (needs `acks: -1`). @default false */
  idempotent?: boolean;
  /** Acknowledgements a send waits for: -1 all in-sync replicas, 1 the leader, 0 none. @default -1 */
  acks?: -1 | 0 | 1;
  /** Partitions of one subscription handled at once (kafkajs `partitionsConsumedConcurrently`). @default 1 */
  partitionsConsumedConcurrently?: number;
  /** How often a batch waiting for slow handlers heartbeats (ms). @default 3000 */
  heartbeatMs?: number;
}

const capabilities: AdapterCapabilities = {
  orderingPerKey: true,
  persistence: true,
  consumerGroups: true,
  replay: true,
};
const kafkaTopic = /^[\w.-]{1,249}$/;

/**
 * Kafka transport: one topic per topic, the message key as partition key (so per-key order holds
 * across a group), consumer groups with `eachBatch` and offsets committed only up to the first
 * unfinished message, an optional idempotent producer.
 */
export class KafkaAdapter implements MessageAdapter {
  readonly name: string = 'kafka';
  readonly capabilities: AdapterCapabilities = capabilities;
  private readonly kafka: KafkaClientLike;
  private readonly idempotent: boolean;
  private readonly acks: -1 | 0 | 1;
  private readonly partitionsConsumedConcurrently: number;
  private readonly heartbeatMs: number;
  private producer: Promise<KafkaProducerLike> | undefined;
  private admin: Promise<KafkaAdminLike> | undefined;
  private readonly open = new Set<KafkaTopicSubscription>();
  private readonly local = new Map<string, Set<KafkaTopicSubscription>>();
  private closing: Promise<void> | undefined;

  constructor(options: KafkaAdapterOptions & { kafka: KafkaClientLike }) {
    plainObject('options', options);
    const kafka = options.kafka as Partial<KafkaClientLike> | undefined;
    if (
      typeof kafka?.producer !== 'function' ||
      typeof kafka.consumer !== 'function' ||
      typeof kafka.admin !== 'function'
    ) {
      throw new InvalidOptionError('kafka', options.kafka, 'a kafkajs Kafka instance or a KafkaClientLike');
    }
    this.kafka = options.kafka;
    this.idempotent = options.idempotent ?? false;
    if (typeof this.idempotent !== 'boolean')
      throw new InvalidOptionError('idempotent', options.idempotent, 'a boolean');
    this.acks = options.acks ?? -1;
    if (![-1, 0, 1].includes(this.acks)) throw new InvalidOptionError('acks', options.acks, '-1, 0 or 1');
    if (this.idempotent && this.acks !== -1)
      throw new InvalidOptionError('acks', options.acks, '-1 with an idempotent producer');
    this.partitionsConsumedConcurrently = integer(
      'partitionsConsumedConcurrently',
      options.partitionsConsumedConcurrently ?? 1,
    );
    this.heartbeatMs = integer('heartbeatMs', options.heartbeatMs ?? 3000);
  }

  async publish(messages: readonly WireMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    const byTopic = new Map<string, KafkaOutgoingMessage[]>();
    for (const message of messages) {
      const topic = checkTopic(message.topic);
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      const body = message.body;
      list.push({
        key: message.key,
        value: typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        headers: { ...message.headers, [MESSAGE_ID_HEADER]: message.id },
        timestamp: String(message.timestamp),
      });
    }
    const producer = await this.connectedProducer();
    await producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
      acks: this.acks,
    });
  }

  async subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    this.assertOpen();
    const topic = checkTopic(spec.topic);
    const consumer = this.kafka.consumer({ groupId: spec.group });
    const key = `${spec.group}\u0000${topic}`;
    const subscription = new KafkaTopicSubscription(consumer, this.heartbeatMs, () => {
      this.open.delete(subscription);
      this.local.get(key)?.delete(subscription);
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: spec.startFrom === 'earliest' });
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.partitionsConsumedConcurrently,
        eachBatch: subscription.eachBatch,
      });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    this.open.add(subscription);
    let group = this.local.get(key);
    if (!group) {
      group = new Set();
      this.local.set(key, group);
    }
    group.add(subscription);
    return subscription;
  }

  /** Lag: the group's committed offsets behind the partitions' high watermarks; pending: unfinished here. */
  async backlog(topic: string, group: string): Promise<Backlog> {
    const admin = await this.connectedAdmin();
    const [high, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: group, topics: [topic] }),
    ]);
    const done = new Map(
      (committed.find((entry) => entry.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
    );
    let lag = 0;
    for (const partition of high) {
      const end = Number(partition.high ?? partition.offset);
      const at = done.get(partition.partition) ?? -1;
      lag += at < 0 ? end - Number(partition.low ?? 0) : Math.max(0, end - at);
    }
    let pending = 0;
    for (const subscription of this.local.get(`${group}\u0000${topic}`) ?? []) pending += subscription.pending;
    return { pending, lag };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await (await this.connectedAdmin()).describeCluster();
  }

  /** Leaves every group and disconnects the producer and admin it created. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.open].map((subscription) => subscription.close()));
      const [producer, admin] = await Promise.allSettled([this.producer, this.admin]);
      if (producer.status === 'fulfilled') await producer.value?.disconnect().catch(() => undefined);
      if (admin.status === 'fulfilled') await admin.value?.disconnect().catch(() => undefined);
    })();
    return this.closing;
  }

  private connectedProducer(): Promise<KafkaProducerLike> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer(this.idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {});
      await producer.connect();
      return producer;
    })().catch((error: unknown) => {
      this.producer = undefined;
      throw error;
    });
    return this.producer;
  }

  private connectedAdmin(): Promise<KafkaAdminLike> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }

  private assertOpen(): void {
    if (this.closing) throw new MessagingError('CLOSED', 'The Kafka adapter is closed');
  }
}

function checkTopic(topic: string): string {
  if (!kafkaTopic.test(topic))
    throw new InvalidOptionError(
      'topic',
      topic,
      'a Kafka topic name (letters, digits, ".", "_", "-")',
      'INVALID_ARGUMENT',
    );
  return topic;
}

/**
 * A Kafka adapter on `options.kafka`, or on a kafkajs client it creates from `options.brokers`
 * (default `KAFKA_BROKERS`), loading `kafkajs` only then.
 */
export async function createKafkaAdapter(options: KafkaAdapterOptions = {}): Promise<KafkaAdapter> {
  plainObject('options', options);
  if (options.kafka) return new KafkaAdapter({ ...options, kafka: options.kafka });
  const fromEnv = options.brokers === undefined;
  const raw = options.brokers ?? process.env.KAFKA_BROKERS;
  const brokers = (Array.isArray(raw) ? raw : (raw ?? '').split(','))
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  if (brokers.length === 0 || brokers.some((broker) => !/^[\w.-]+:\d+$/.test(broker))) {
    throw new InvalidOptionError(
      fromEnv ? 'KAFKA_BROKERS' : 'brokers',
      raw,
      'host:port brokers (comma-separated), or pass a kafka client',
    );
  }
  const clientId = nonEmptyString('clientId', options.clientId ?? 'infra-messaging');
  let mod: typeof import('kafkajs');
  try {
    mod = await import('kafkajs');
  } catch (error) {
    throw missingPeer('kafkajs', 'The Kafka messaging adapter', error);
  }
  const kafka = new mod.Kafka({ clientId, brokers, logLevel: mod.logLevel.ERROR });
  return new KafkaAdapter({ ...options, kafka });
}
