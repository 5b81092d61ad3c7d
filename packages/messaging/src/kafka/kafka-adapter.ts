import type { AdapterSubscription, Backlog, MessageAdapter, SubscribeSpec, WireMessage } from '../adapter.js';
import { InvalidOptionError, MessagingError, missingPeer } from '../errors.js';
import { integer, nonEmptyString, plainObject, withMethods } from '../validate.js';
import type { KafkaAdminLike, KafkaClientLike, KafkaOutgoingMessage, KafkaProducerLike } from './kafka-client.js';
import { withinDeadline } from './kafka-deadline.js';
import { subscriptionAssigner, type AssignerProtocolLike } from './kafka-assigner.js';
import { KafkaGroupConsumer, type GroupHost, type GroupSettings } from './kafka-group.js';
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
  /**
   * Partitions of one group consumer handled at once (kafkajs `partitionsConsumedConcurrently`). Order
   * holds per partition, hence per key, whatever the value.
   * @default 8
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Most bytes one fetch takes from one partition (kafkajs and @platformatic/kafka `maxBytesPerPartition`).
   * Larger fetches hand the bus larger batches; a single message larger than this is still read whole.
   * @default 1048576 (1 MiB)
   */
  fetchMaxBytes?: number;
  /** How often a batch waiting for slow handlers heartbeats (ms); below a third of `sessionTimeoutMs`. @default 3000 */
  heartbeatMs?: number;
  /**
   * Consumer session timeout (ms): a member silent this long leaves its group and its partitions
   * move. The broker accepts 6000 to 300000 by default.
   * @default 30000
   */
  sessionTimeoutMs?: number;
  /**
   * How long connecting the producer, admin or a consumer may take before it fails with
   * `ADAPTER_UNAVAILABLE` (ms).
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * A partition waiting this long for one message, or a group consumer outside its group this long,
   * turns the health check to `warn` (ms).
   * @default 30000
   */
  stallMs?: number;
}

const capabilities: MessageAdapter['capabilities'] = {
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
  readonly capabilities: MessageAdapter['capabilities'] = capabilities;
  private readonly kafka: KafkaClientLike;
  private readonly idempotent: boolean;
  private readonly acks: -1 | 0 | 1;
  private readonly settings: GroupSettings;
  private readonly stallMs: number;
  private producer: Promise<KafkaProducerLike> | undefined;
  private admin: Promise<KafkaAdminLike> | undefined;
  private readonly groups = new Map<string, KafkaGroupConsumer>();
  /** Per group: deliveries of messages not acknowledged yet, kept when the group's last subscription closes. */
  private readonly attempts = new Map<string, Map<string, number>>();
  private assignerFactories: Promise<unknown[] | undefined> | undefined;
  private readonly groupHost: GroupHost = {
    assigners: () => (this.assignerFactories ??= this.loadAssigners()),
    latestStarts: (group, topics) => this.latestStarts(group, topics),
    uncommitted: (group, topics) => this.uncommitted(group, topics),
  };
  private closing: Promise<void> | undefined;

  constructor(options: KafkaAdapterOptions & { kafka: KafkaClientLike }) {
    plainObject('options', options);
    this.kafka = withMethods<KafkaClientLike>(
      'kafka',
      options.kafka,
      ['producer', 'consumer', 'admin'],
      'a kafkajs Kafka instance or a KafkaClientLike',
    );
    this.idempotent = options.idempotent ?? false;
    if (typeof this.idempotent !== 'boolean')
      throw new InvalidOptionError('idempotent', options.idempotent, 'a boolean');
    this.acks = options.acks ?? -1;
    if (![-1, 0, 1].includes(this.acks)) throw new InvalidOptionError('acks', options.acks, '-1, 0 or 1');
    if (this.idempotent && this.acks !== -1)
      throw new InvalidOptionError('acks', options.acks, '-1 with an idempotent producer');
    const sessionTimeoutMs = integer('sessionTimeoutMs', options.sessionTimeoutMs ?? 30_000);
    const heartbeatMs = integer('heartbeatMs', options.heartbeatMs ?? Math.min(3000, sessionTimeoutMs / 3));
    if (heartbeatMs * 3 > sessionTimeoutMs)
      throw new InvalidOptionError(
        'heartbeatMs',
        heartbeatMs,
        `at most a third of sessionTimeoutMs (${String(sessionTimeoutMs)})`,
      );
    this.settings = {
      partitionsConsumedConcurrently: integer(
        'partitionsConsumedConcurrently',
        options.partitionsConsumedConcurrently ?? 8,
      ),
      heartbeatMs,
      sessionTimeoutMs,
      connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
      fetchMaxBytes: integer('fetchMaxBytes', options.fetchMaxBytes ?? 1024 * 1024),
      resubscribeDelayMs: 200,
      bufferLimit: 1000,
      crashRestartMs: 2000,
    };
    this.stallMs = integer('stallMs', options.stallMs ?? 30_000);
  }

  async publish(messages: readonly WireMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    const byTopic = new Map<string, KafkaOutgoingMessage[]>();
    for (const message of messages) {
      let list = byTopic.get(message.topic);
      if (!list) {
        list = [];
        byTopic.set(checkTopic(message.topic), list);
      }
      const body = message.body;
      list.push({
        key: message.key,
        value: typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        headers: withMessageId(message),
        timestamp: String(message.timestamp),
      });
    }
    const producer = await this.connectedProducer();
    await producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
      acks: this.acks,
    });
  }

  /** What a Kafka topic name must be, when `topic` is not one (the bus checks subscriptions' topics with it). */
  checkTopicName(topic: string): string | undefined {
    return kafkaTopicProblem(topic);
  }

  /** Joins the topic to the group's one consumer of this adapter (which restarts if it was running without it). */
  async subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    this.assertOpen();
    const topic = checkTopic(spec.topic);
    let group = this.groups.get(spec.group);
    if (!group) {
      group = new KafkaGroupConsumer(this.kafka, spec.group, this.settings, this.groupHost);
      this.groups.set(spec.group, group);
    }
    const owner = group;
    let attempts = this.attempts.get(spec.group);
    if (!attempts) {
      attempts = new Map();
      this.attempts.set(spec.group, attempts);
    }
    const subscription = new KafkaTopicSubscription(topic, spec.startFrom, attempts, async (closed) => {
      await owner.remove(closed);
      if (owner.empty && this.groups.get(owner.group) === owner) this.groups.delete(owner.group);
    });
    try {
      await group.add(subscription);
    } catch (error) {
      await subscription.close([]);
      throw error;
    }
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
    for (const subscription of this.groups.get(group)?.subscriptions(topic) ?? []) pending += subscription.pending;
    return { pending, lag };
  }

  /** Group consumers outside their group and partitions waiting on one message, for longer than `stallMs`. */
  problems(): string[] {
    const now = Date.now();
    const lines: string[] = [];
    for (const group of this.groups.values()) {
      const state = group.state;
      if ((state.kind === 'joining' || state.kind === 'out') && now - state.since > this.stallMs) {
        const why = state.kind === 'out' ? state.reason : 'still joining';
        lines.push(`group "${group.group}": consumer not in its group for ${String(now - state.since)} ms (${why})`);
      }
      for (const waiting of group.waitingPartitions()) {
        if (now - waiting.since <= this.stallMs) continue;
        lines.push(
          `group "${group.group}": partition ${waiting.topic}[${String(waiting.partition)}] stalled on offset ${waiting.offset} for ${String(now - waiting.since)} ms`,
        );
      }
    }
    return lines;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await (await this.connectedAdmin()).describeCluster();
  }

  /** Leaves every group and disconnects the producer and admin it created. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.groups.values()].map((group) => group.stop()));
      this.groups.clear();
      const [producer, admin] = await Promise.allSettled([this.producer, this.admin]);
      if (producer.status === 'fulfilled') await producer.value?.disconnect().catch(() => undefined);
      if (admin.status === 'fulfilled') await admin.value?.disconnect().catch(() => undefined);
    })();
    return this.closing;
  }

  /**
   * With kafkajs (and an admin that reads topic metadata), the group's consumers prefer an assigner
   * that gives each partition only to members subscribed to its topic; round-robin stays second
   * so that members of older versions can still join.
   */
  private async loadAssigners(): Promise<unknown[] | undefined> {
    const admin = await this.connectedAdmin();
    if (typeof admin.fetchTopicMetadata !== 'function') return undefined;
    let mod: { AssignerProtocol: AssignerProtocolLike; PartitionAssigners: { roundRobin: unknown } };
    try {
      mod = await import('kafkajs');
    } catch {
      return undefined;
    }
    const partitionsOf = async (wanted: string[]): Promise<Map<string, number[]>> => {
      const existing = admin.listTopics ? new Set(await admin.listTopics()) : undefined;
      const topics = wanted.filter((topic) => existing?.has(topic) ?? true);
      if (topics.length === 0) return new Map();
      const metadata = await (admin.fetchTopicMetadata as NonNullable<KafkaAdminLike['fetchTopicMetadata']>)({
        topics,
      });
      return new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.map((p) => p.partitionId).sort()]));
    };
    const assigner = subscriptionAssigner(mod.AssignerProtocol, partitionsOf);
    return [() => assigner, mod.PartitionAssigners.roundRobin];
  }

  /** End offsets of the partitions of `topics` the group has not committed yet. */
  private async latestStarts(
    group: string,
    wanted: string[],
  ): Promise<{ starts: Map<string, string>; missing: string[] }> {
    const starts = new Map<string, string>();
    if (wanted.length === 0) return { starts, missing: [] };
    const admin = await this.connectedAdmin();
    // A topic that does not exist yet has nothing before this subscription: it starts at its beginning.
    // (Asking kafkajs' admin for offsets of a missing topic would break its later metadata requests.)
    const existing = admin.listTopics ? new Set(await admin.listTopics()) : undefined;
    const topics = wanted.filter((topic) => existing?.has(topic) ?? true);
    const missing = wanted.filter((topic) => !topics.includes(topic));
    if (topics.length === 0) return { starts, missing };
    const committed = await admin.fetchOffsets({ groupId: group, topics });
    await Promise.all(
      topics.map(async (topic) => {
        const done = new Map(
          (committed.find((entry) => entry.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]),
        );
        for (const partition of await admin.fetchTopicOffsets(topic)) {
          const at = done.get(partition.partition);
          if (at === undefined || Number(at) < 0)
            starts.set(`${topic}:${String(partition.partition)}`, partition.high ?? partition.offset);
        }
      }),
    );
    return { starts, missing };
  }

  private async uncommitted(group: string, topics: string[]): Promise<Set<string>> {
    const admin = await this.connectedAdmin();
    const places = new Set<string>();
    for (const entry of await admin.fetchOffsets({ groupId: group, topics })) {
      for (const partition of entry.partitions) {
        if (Number(partition.offset) < 0) places.add(`${entry.topic}:${String(partition.partition)}`);
      }
    }
    return places;
  }

  private connectedProducer(): Promise<KafkaProducerLike> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer(this.idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {});
      try {
        await withinDeadline(producer.connect(), this.settings.connectTimeoutMs, 'producer');
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw error;
      }
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
      try {
        await withinDeadline(admin.connect(), this.settings.connectTimeoutMs, 'admin client');
      } catch (error) {
        await admin.disconnect().catch(() => undefined);
        throw error;
      }
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

/**
 * The message's headers plus its id. Copied key by key: adding a property to an object made by spread
 * (`{ ...headers, [name]: id }`) takes V8's slow path, which cost more than the rest of the bus's
 * per-message work.
 */
function withMessageId(message: WireMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(message.headers)) headers[name] = message.headers[name] as string;
  headers[MESSAGE_ID_HEADER] = message.id;
  return headers;
}

/** What a Kafka topic name must be, when `topic` is not one. */
function kafkaTopicProblem(topic: string): string | undefined {
  return kafkaTopic.test(topic) && topic !== '.' && topic !== '..'
    ? undefined
    : 'a Kafka topic name (1-249 characters: letters, digits, ".", "_", "-"; not "." or "..")';
}

/** A topic given as an argument (publish, subscribe): `INVALID_ARGUMENT` naming it when Kafka would refuse it. */
function checkTopic(topic: string): string {
  const expected = kafkaTopicProblem(topic);
  if (expected !== undefined) throw new InvalidOptionError('topic', topic, expected, 'INVALID_ARGUMENT');
  return topic;
}

/**
 * A Kafka adapter on `options.kafka`, or on a kafkajs client it creates from `options.brokers`
 * (default `KAFKA_BROKERS`), loading `kafkajs` only then.
 */
export async function createKafkaAdapter(options: KafkaAdapterOptions = {}): Promise<KafkaAdapter> {
  plainObject('options', options);
  if (options.kafka) return new KafkaAdapter({ ...options, kafka: options.kafka });
  const brokers = resolveBrokers(options.brokers);
  const clientId = nonEmptyString('clientId', options.clientId ?? 'infra-messaging');
  let mod: typeof import('kafkajs');
  try {
    mod = await import('kafkajs');
  } catch (error) {
    throw missingPeer('kafkajs', 'The Kafka messaging adapter', error);
  }
  // Failures reach the caller as coded errors and the health check; kafkajs' own log stays quiet.
  const kafka = new mod.Kafka({
    clientId,
    brokers,
    logLevel: mod.logLevel.NOTHING,
    connectionTimeout: Math.min(3000, options.connectTimeoutMs ?? 10_000),
    retry: { initialRetryTime: 100, maxRetryTime: 3000, retries: 8 },
  });
  return new KafkaAdapter({ ...options, kafka });
}

/** `brokers`, or `KAFKA_BROKERS` when it is not given, as a checked list of `host:port`. */
export function resolveBrokers(option: string[] | string | undefined): string[] {
  const fromEnv = option === undefined;
  const raw = option ?? process.env.KAFKA_BROKERS;
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
  return brokers;
}
