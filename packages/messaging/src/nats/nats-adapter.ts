import type { JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConnectionEventSource } from '../connection-events.js';
import type { AdapterSubscription, Backlog, MessageAdapter, SubscribeSpec, WireMessage } from '../adapter.js';
import { InvalidOptionError, MessagingError, errorMessage } from '../errors.js';
import { loadNats, type NatsModules } from './nats-client.js';
import { MSG_ID_HEADER, encodeMessage, publishId } from './nats-message.js';
import { jetStreamName, subjectProblem } from './nats-names.js';
import { resolveNatsOptions, type NatsAdapterOptions, type ResolvedNatsOptions } from './nats-options.js';
import { NatsPullSubscription, natsWithin } from './nats-subscription.js';

/** Events of the adapter: the state of its connection, which the client restores on its own. */
export interface NatsAdapterEvents {
  error: { error: Error };
}

const capabilities: MessageAdapter['capabilities'] = {
  orderingPerKey: false,
  persistence: true,
  consumerGroups: true,
  replay: true,
};

/** Where a consumer the adapter creates starts. */
type Start = { deliver_policy: 'all' | 'new' } | { deliver_policy: 'by_start_sequence'; opt_start_seq: number };

const NANOS_PER_MS = 1_000_000;
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/**
 * NATS JetStream transport: one stream per topic (subject `<subjectPrefix>.<topic>`), one durable
 * pull consumer per group, explicit acknowledgements, `Nats-Msg-Id` de-duplication, and recovery
 * when the server loses its storage (stream and consumer are created again). Per-key order holds
 * within one subscription; the consumers of a group share messages without regard to keys.
 */
export class NatsAdapter extends ConnectionEventSource<NatsAdapterEvents> implements MessageAdapter {
  readonly name: string = 'nats';
  readonly capabilities: MessageAdapter['capabilities'] = capabilities;
  /** The connection in use: created by the adapter (and closed by it), or the one injected. */
  readonly connection: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly options: ResolvedNatsOptions;
  /** Streams known to exist, by topic; forgotten when the server says otherwise. */
  private readonly streams = new Map<string, Promise<string>>();
  private readonly open = new Set<NatsPullSubscription>();
  private connected = true;
  private closing: Promise<void> | undefined;

  /** @internal Use {@link createNatsAdapter}, which loads the client and connects. */
  constructor(
    private readonly modules: NatsModules,
    connection: NatsConnection,
    private readonly jsm: JetStreamManager,
    options: ResolvedNatsOptions,
    private readonly owned: boolean,
  ) {
    super();
    this.connection = connection;
    this.options = options;
    this.js = modules.jetstream(connection, { timeout: options.requestTimeoutMs });
    void this.watch();
  }

  /** Stream of a topic. */
  streamName(topic: string): string {
    return jetStreamName(`${this.options.streamPrefix}${topic}`);
  }

  /** Subject of a topic. */
  subject(topic: string): string {
    return `${this.options.subjectPrefix}.${topic}`;
  }

  /** Durable consumer of a group. */
  consumerName(group: string): string {
    return jetStreamName(group);
  }

  checkTopicName(topic: string): string | undefined {
    return subjectProblem(topic);
  }

  /**
   * Publishes in order, up to `publishBatchSize` awaiting their acknowledgement at once (one
   * connection keeps their order); resolves once JetStream has stored every message (or found it a
   * duplicate of one stored within the duplicate window).
   */
  async publish(messages: readonly WireMessage[]): Promise<void> {
    this.assertOpen();
    const topics = new Set<string>();
    for (const message of messages) topics.add(message.topic);
    for (const topic of topics) checkSubject(topic);
    await Promise.all([...topics].map((topic) => this.ensureStream(topic)));
    for (let start = 0; start < messages.length; start += this.options.publishBatchSize) {
      const chunk = messages.slice(start, start + this.options.publishBatchSize);
      await Promise.all(chunk.map((message) => this.publishOne(message)));
    }
  }

  async subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    this.assertOpen();
    checkSubject(spec.topic);
    const stream = await this.ensureStream(spec.topic);
    const consumer = this.consumerName(spec.group);
    await this.ensureConsumer(
      stream,
      consumer,
      spec.startFrom === 'earliest' ? { deliver_policy: 'all' } : { deliver_policy: 'new' },
    );
    const subscription = new NatsPullSubscription(
      this.connection,
      spec,
      {
        stream,
        consumer,
        inbox: this.modules.createInbox(),
        batchSize: this.options.batchSize,
        fetchWaitMs: this.options.fetchWaitMs,
        ackWaitMs: this.options.ackWaitMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
      },
      (last) => this.recreateConsumer(spec.topic, consumer, last),
      (closed) => this.open.delete(closed),
    );
    this.open.add(subscription);
    return subscription;
  }

  /** From the group's consumer: `num_ack_pending` is what is pending, `num_pending` the lag. */
  async backlog(topic: string, group: string): Promise<Backlog> {
    try {
      const info = await this.jsm.consumers.info(this.streamName(topic), this.consumerName(group));
      return { pending: info.num_ack_pending, lag: info.num_pending };
    } catch (error) {
      const code = apiCode(error);
      if (code === STREAM_NOT_FOUND) return { pending: 0, lag: 0 };
      if (code === CONSUMER_NOT_FOUND) return { pending: 0, lag: null };
      throw error;
    }
  }

  /** Fails at once while the connection is away; else a round trip to the server within `requestTimeoutMs`. */
  async ping(): Promise<void> {
    this.assertOpen();
    if (!this.connected || this.connection.isClosed())
      throw new MessagingError('ADAPTER_UNAVAILABLE', 'The NATS connection is down (reconnecting)', {
        isRetryable: true,
      });
    await natsWithin(this.connection.flush(), this.options.requestTimeoutMs, 'ping');
  }

  /** Messages that consumers keep failing to acknowledge, one line each. */
  problems(): string[] {
    return [...this.open].flatMap((subscription) => subscription.problems());
  }

  /**
   * Stops the subscriptions and, if the adapter created the connection, drains and closes it within
   * `timeoutMs` (then drops it). An injected connection is left open. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      for (const subscription of this.open) subscription.abort();
      this.open.clear();
      if (!this.owned) return;
      await natsWithin(this.connection.drain(), options.timeoutMs ?? this.options.requestTimeoutMs, 'closing').catch(
        () => undefined,
      );
      if (!this.connection.isClosed()) await this.connection.close().catch(() => undefined);
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async publishOne(message: WireMessage): Promise<void> {
    try {
      await this.send(message);
    } catch (error) {
      // No stream listens on the subject any more (the server lost its storage): create it again, once.
      if (!isNoResponders(error)) throw publishFailed(message, error);
      this.streams.delete(message.topic);
      await this.ensureStream(message.topic);
      await this.send(message).catch((retryError: unknown) => {
        throw publishFailed(message, retryError);
      });
    }
  }

  private async send(message: WireMessage): Promise<void> {
    const headers = this.modules.headers();
    const data = encodeMessage(message, headers);
    await this.js.publish(this.subject(message.topic), data, { msgID: publishId(message), headers });
  }

  /** The topic's stream, created if it does not exist (idempotent; a stream made elsewhere is used as it is). */
  private ensureStream(topic: string): Promise<string> {
    let known = this.streams.get(topic);
    if (known === undefined) {
      known = this.createStream(topic);
      this.streams.set(topic, known);
      known.catch(() => {
        if (this.streams.get(topic) === known) this.streams.delete(topic);
      });
    }
    return known;
  }

  private async createStream(topic: string): Promise<string> {
    const name = this.streamName(topic);
    try {
      await this.jsm.streams.info(name);
      return name;
    } catch (error) {
      if (apiCode(error) !== STREAM_NOT_FOUND) throw unavailable(`reading stream ${name}`, error, topic);
    }
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: [this.subject(topic)],
      retention: this.options.retention,
      storage: this.options.storage,
      num_replicas: this.options.replicas,
      max_msgs: this.options.maxMessages === 0 ? -1 : this.options.maxMessages,
      max_age: this.options.maxAgeMs * NANOS_PER_MS,
      // JetStream refuses a duplicate window longer than the stream keeps messages.
      duplicate_window:
        (this.options.maxAgeMs > 0
          ? Math.min(this.options.duplicateWindowMs, this.options.maxAgeMs)
          : this.options.duplicateWindowMs) * NANOS_PER_MS,
      discard: 'old',
    };
    try {
      await this.jsm.streams.add(config);
    } catch (error) {
      // Created meanwhile by another process (with another configuration, possibly): use it.
      const exists = await this.jsm.streams.info(name).then(
        () => true,
        () => false,
      );
      if (!exists) throw unavailable(`creating stream ${name}`, error, topic);
    }
    return name;
  }

  /**
   * The group's durable pull consumer, created if missing. An existing one keeps its position; its
   * AckWait is brought to `ackWaitMs`.
   */
  private async ensureConsumer(stream: string, consumer: string, start: Start | (() => Promise<Start>)): Promise<void> {
    const ackWait = this.options.ackWaitMs * NANOS_PER_MS;
    try {
      const info = await this.jsm.consumers.info(stream, consumer);
      if (info.config.ack_wait !== ackWait) await this.jsm.consumers.update(stream, consumer, { ack_wait: ackWait });
      return;
    } catch (error) {
      if (apiCode(error) !== CONSUMER_NOT_FOUND) throw unavailable(`reading consumer ${stream}/${consumer}`, error);
    }
    const from = typeof start === 'function' ? await start() : start;
    try {
      await this.jsm.consumers.add(stream, {
        durable_name: consumer,
        ack_policy: 'explicit',
        ...from,
        ack_wait: ackWait,
        // The bus retries and dead-letters; JetStream only redelivers what a dead consumer left.
        max_deliver: -1,
        // Each subscription bounds its own unacknowledged messages (`maxInFlight`).
        max_ack_pending: -1,
      });
    } catch (error) {
      const exists = await this.jsm.consumers.info(stream, consumer).then(
        () => true,
        () => false,
      );
      if (!exists) throw unavailable(`creating consumer ${stream}/${consumer}`, error);
    }
  }

  /**
   * The consumer (or its stream) vanished: the server lost its storage, or someone deleted it. It is
   * created again after the last message the subscription got when the stream still holds that
   * message (same sequence, same `Nats-Msg-Id`), else from the start of the stream, which was
   * recreated: every message in it was published after the loss. At-least-once: nothing is skipped.
   */
  private async recreateConsumer(
    topic: string,
    consumer: string,
    last: { sequence: number; msgId: string | undefined },
  ): Promise<void> {
    this.streams.delete(topic);
    const stream = await this.ensureStream(topic);
    await this.ensureConsumer(stream, consumer, async (): Promise<Start> => {
      if (last.sequence === 0 || last.msgId === undefined) return { deliver_policy: 'all' };
      const kept = await this.jsm.streams.getMessage(stream, { seq: last.sequence }).catch(() => null);
      return kept?.header.get(MSG_ID_HEADER) === last.msgId
        ? { deliver_policy: 'by_start_sequence', opt_start_seq: last.sequence + 1 }
        : { deliver_policy: 'all' };
    });
  }

  /** Follows the connection: reports its failures and lets the subscriptions resume after a reconnect. */
  private async watch(): Promise<void> {
    try {
      for await (const status of this.connection.status()) {
        // Closed: stop following (an injected connection lives on).
        if (this.closing) break;
        switch (status.type) {
          case 'disconnect':
            this.connected = false;
            this.events.emit('error', {
              error: new MessagingError('ADAPTER_UNAVAILABLE', `Lost the connection to NATS at ${status.server}`, {
                isRetryable: true,
              }),
            });
            break;
          case 'reconnect':
            this.connected = true;
            for (const subscription of this.open) subscription.reconnected();
            break;
          case 'error':
            this.events.emit('error', { error: status.error });
            break;
          case 'staleConnection':
            this.events.emit('error', {
              error: new MessagingError('ADAPTER_UNAVAILABLE', 'The NATS connection went stale', { isRetryable: true }),
            });
            break;
          default:
            break;
        }
      }
    } catch (error) {
      if (!this.closing)
        this.events.emit('error', { error: error instanceof Error ? error : new Error(String(error)) });
    }
    // The status iterator ends when the connection closes for good.
    this.connected = false;
  }

  private assertOpen(): void {
    if (this.closing) throw new MessagingError('CLOSED', 'The NATS adapter is closed');
  }
}

function checkSubject(topic: string): void {
  const problem = subjectProblem(topic);
  if (problem !== undefined) throw new InvalidOptionError('topic', topic, problem, 'INVALID_ARGUMENT');
}

function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function isNoResponders(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth++) {
    if (cause.name === 'JetStreamNotEnabled' || /no responders/i.test(cause.message)) return true;
  }
  return false;
}

function unavailable(what: string, error: unknown, topic?: string): MessagingError {
  return new MessagingError('ADAPTER_UNAVAILABLE', `JetStream failed ${what}: ${errorMessage(error)}`, {
    cause: error,
    isRetryable: true,
    ...(topic === undefined ? {} : { topic }),
  });
}

function publishFailed(message: WireMessage, error: unknown): MessagingError {
  return new MessagingError(
    'PUBLISH_FAILED',
    `JetStream did not store message ${message.id} of "${message.topic}": ${errorMessage(error)}`,
    { cause: error, topic: message.topic, isRetryable: true },
  );
}

/**
 * A NATS JetStream adapter on `options.connection`, or on a connection it creates (and closes) from
 * `options.servers` (default `NATS_SERVERS`), reconnecting on its own. Loads `@nats-io/transport-node`
 * and `@nats-io/jetstream` only now; `MISSING_PEER` names the one that is not installed.
 */
export async function createNatsAdapter(options: NatsAdapterOptions = {}): Promise<NatsAdapter> {
  const resolved = resolveNatsOptions(options);
  const modules = await loadNats();
  let connection = resolved.connection;
  const owned = connection === undefined;
  if (connection === undefined) {
    try {
      connection = await modules.connect({
        servers: resolved.servers ?? [],
        name: resolved.name,
        timeout: resolved.connectTimeoutMs,
        reconnect: true,
        maxReconnectAttempts: resolved.maxReconnectAttempts,
        reconnectTimeWait: resolved.reconnectTimeWaitMs,
        reconnectJitter: Math.min(100, resolved.reconnectTimeWaitMs),
        // A connection the server stopped answering is noticed within seconds, not minutes.
        pingInterval: 5000,
        maxPingOut: 2,
      });
    } catch (error) {
      throw new MessagingError('ADAPTER_UNAVAILABLE', `Cannot connect to NATS: ${errorMessage(error)}`, {
        cause: error,
        isRetryable: true,
      });
    }
  }
  try {
    const jsm = await modules.jetstreamManager(connection, { timeout: resolved.requestTimeoutMs, checkAPI: false });
    return new NatsAdapter(modules, connection, jsm, resolved, owned);
  } catch (error) {
    if (owned) await connection.close().catch(() => undefined);
    throw error;
  }
}
