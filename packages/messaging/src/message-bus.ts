import { hostname } from 'node:os';
import { EventHub, extractContext, tracingEnabled, type Logger, type OpenSpan } from '@infra/core';
import { logMessagingEvents, loggerOption } from './log-events.js';
import type { MessageAdapter, WireMessage } from './adapter.js';
import { buildMessage, type PublishOptions, type PublishedMessage } from './envelope.js';
import { InvalidOptionError, MessagingError, errorMessage } from './errors.js';
import type { MessagingEvents } from './events.js';
import { adapterHealth, type MessagingHealth } from './health.js';
import { MemoryAdapter } from './memory/memory-adapter.js';
import { MessageConsumer } from './consumer.js';
import { MessagePublisher } from './publisher.js';
import { assertSchema, checkPayload, type PayloadSchema } from './schema.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import {
  resolveRetry,
  resolveSubscribeOptions,
  type HandlerRetryOptions,
  type SubscribeDefaults,
  type SubscribeOptions,
} from './subscribe-options.js';
import { Subscription, type MessageHandler, type SubscriptionHost } from './subscription.js';
import { messagingSystem, sendSpan, traceProducer } from './tracing.js';
import { fn, integer, nonEmptyString, nonNegative, plainObject, topicName } from './validate.js';

/**
 * Payload types by topic, for type-checked publish and subscribe. Augment it once:
 * `declare module '@infra/messaging' { interface MessageTopics { 'challenge.completed': ChallengeCompleted } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by declaration merging
export interface MessageTopics {}

/**
 * Payload type of `topic`: from {@link MessageTopics} when declared there, else whatever the
 * handler declares (checked at run time by a schema, if the bus has one for the topic).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an undeclared topic takes the handler's payload type
export type PayloadOf<K extends string> = K extends keyof MessageTopics ? MessageTopics[K] : any;

export interface MessageBusOptions {
  /** The transport. @default a new MemoryAdapter */
  adapter?: MessageAdapter;
  /** @default strict JSON */
  serializer?: Serializer;
  /** Payload schemas by topic, checked on publish and on consume. @default {} */
  schemas?: Record<string, PayloadSchema>;
  /**
   * Check payloads against `schemas` when publishing too (a rejected publish throws `VALIDATION_FAILED`). @default true
   */
  validateOnPublish?: boolean;
  /** Default consumer group of subscriptions, usually the service's name. @default 'default' */
  group?: string;
  /** Prefix of consumer names. @default `<host>-<pid>` */
  consumerName?: string;
  /** Default handler concurrency of a subscription. @default 1 */
  concurrency?: number;
  /** Default bound on a subscription's unfinished messages. @default 100 */
  maxInFlight?: number;
  /** Default handler retries. @default { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 10_000, jitter: 'full' } */
  retry?: HandlerRetryOptions;
  /** Dead-letter topic of a topic; `false` drops failed messages. @default (topic) => `${topic}.dlq` */
  deadLetterTopic?: ((topic: string) => string) | false;
  /** How long closing waits for running handlers (ms). @default 10_000 */
  closeTimeoutMs?: number;
  /** Period of `lag` events (ms); 0 turns them off. @default 30_000 */
  lagIntervalMs?: number;
  /** Backlog (pending + lag) over which `healthCheck()` warns. @default 1000 */
  healthWarnBacklog?: number;
  /** Deadline of the health probe (ms). @default 2000 */
  healthTimeoutMs?: number;
  /**
   * Logs handler retries (`warn`), dead-lettered messages (`error`) and failures the bus recovers
   * from (`warn`), with the error under `err`; e.g. a pino logger. @default undefined (nothing is logged)
   */
  logger?: Logger;
}

export interface PublishRequest extends PublishOptions {
  topic: string;
  payload: unknown;
}

/**
 * One adapter with its publisher and consumer: envelopes, serialization, schemas, context
 * propagation, subscriptions with retries and dead letters, health and events.
 */
export class MessageBus {
  readonly adapter: MessageAdapter;
  readonly serializer: Serializer;
  readonly events: EventHub<MessagingEvents> = new EventHub<MessagingEvents>();
  /** Publishing side, to hand to code that only publishes. */
  readonly publisher: MessagePublisher = new MessagePublisher(this);
  /** Consuming side, to hand to code that only subscribes. */
  readonly consumer: MessageConsumer = new MessageConsumer(this);
  private readonly schemas: Map<string, PayloadSchema>;
  private readonly validateOnPublish: boolean;
  private readonly defaults: SubscribeDefaults;
  private readonly lagIntervalMs: number;
  private readonly healthWarnBacklog: number;
  private readonly healthTimeoutMs: number;
  private readonly live = new Set<Subscription>();
  private readonly host: SubscriptionHost;
  /** `messaging.system` of the spans. */
  private readonly system: string;
  private lagTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: MessageBusOptions = {}) {
    plainObject('options', options);
    this.adapter = options.adapter ?? new MemoryAdapter();
    if (
      typeof (this.adapter as Partial<MessageAdapter>).publish !== 'function' ||
      typeof (this.adapter as Partial<MessageAdapter>).subscribe !== 'function'
    ) {
      throw new InvalidOptionError('adapter', options.adapter, 'a MessageAdapter (memory, redis or kafka)');
    }
    this.serializer = options.serializer ?? jsonSerializer;
    if (typeof this.serializer.serialize !== 'function' || typeof this.serializer.deserialize !== 'function') {
      throw new InvalidOptionError('serializer', options.serializer, 'an object with serialize() and deserialize()');
    }
    this.schemas = new Map(
      Object.entries(plainObject('schemas', options.schemas ?? {})).map(([topic, schema]) => [
        topicName('schemas', topic, 'INVALID_OPTION'),
        assertSchema(`schemas.${topic}`, schema),
      ]),
    );
    this.validateOnPublish = options.validateOnPublish ?? true;
    const deadLetter = options.deadLetterTopic ?? ((topic: string) => `${topic}.dlq`);
    if (deadLetter !== false) fn('deadLetterTopic', deadLetter, 'INVALID_OPTION');
    this.defaults = {
      group: nonEmptyString('group', options.group ?? 'default'),
      consumerName: nonEmptyString('consumerName', options.consumerName ?? `${hostname()}-${process.pid}`),
      concurrency: integer('concurrency', options.concurrency ?? 1),
      maxInFlight: integer('maxInFlight', options.maxInFlight ?? 100),
      retry: resolveRetry('retry', options.retry ?? {}),
      deadLetterTopic:
        deadLetter === false
          ? () => null
          : (topic) => topicName('deadLetterTopic', deadLetter(topic), 'INVALID_OPTION'),
      closeTimeoutMs: nonNegative('closeTimeoutMs', options.closeTimeoutMs ?? 10_000),
    };
    this.lagIntervalMs = nonNegative('lagIntervalMs', options.lagIntervalMs ?? 30_000);
    this.healthWarnBacklog = nonNegative('healthWarnBacklog', options.healthWarnBacklog ?? 1000);
    this.healthTimeoutMs = integer('healthTimeoutMs', options.healthTimeoutMs ?? 2000);
    this.system = messagingSystem(this.adapter.name);
    const logger = loggerOption(options.logger);
    if (logger !== undefined) logMessagingEvents(this.events, logger);
    this.host = {
      adapter: this.adapter,
      system: this.system,
      serializer: this.serializer,
      events: this.events,
      // Dead letters go through the bus (events, error wrapping), also while it drains on close.
      publishPrepared: (messages) => this.sendPrepared([...messages]),
      detach: (subscription) => {
        this.live.delete(subscription);
        if (this.live.size === 0) this.stopLagTimer();
      },
    };
    this.adapter.onConnectionError?.((error) => {
      this.events.emit('error', { operation: 'connection', error });
    });
  }

  on<K extends keyof MessagingEvents>(event: K, listener: (payload: MessagingEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Publishes one message; resolves once the adapter has accepted it. */
  async publish<K extends string>(
    topic: K,
    payload: PayloadOf<K>,
    options?: PublishOptions,
  ): Promise<PublishedMessage> {
    this.assertOpen();
    const message = await this.build(topic, payload, options);
    const span = this.trace('send', message, options);
    if (span === undefined) {
      const [published] = await this.send([message]);
      return published as PublishedMessage;
    }
    try {
      const [published] = await this.send([message]);
      span.end();
      return published as PublishedMessage;
    } catch (error) {
      span.end(error);
      throw error;
    }
  }

  /**
   * Publishes several messages in one round trip where the adapter can (a Redis pipeline, a Kafka
   * batch), in order. Every message is checked before any is sent.
   */
  async publishBatch(requests: readonly PublishRequest[]): Promise<PublishedMessage[]> {
    this.assertOpen();
    const given: unknown = requests;
    if (!Array.isArray(given))
      throw new InvalidOptionError(
        'requests',
        requests,
        'an array of { topic, payload, ...options }',
        'INVALID_ARGUMENT',
      );
    const messages: WireMessage[] = [];
    for (const request of given as readonly PublishRequest[]) {
      plainObject('request', request, 'INVALID_ARGUMENT');
      // The request doubles as the options: buildMessage reads only the option fields.
      const message = buildMessage(request.topic, request.payload, request, this.serializer);
      const schema = this.validateOnPublish ? this.schemas.get(message.topic) : undefined;
      if (schema) await this.check(schema, message.topic, request.payload);
      messages.push(message);
    }
    // Every message checked, then one producer span each, ended when the batch is accepted.
    let spans: OpenSpan[] | undefined;
    for (let i = 0; i < messages.length; i++) {
      const span = this.trace('send', messages[i] as WireMessage, given[i] as PublishRequest);
      if (span !== undefined) (spans ??= []).push(span);
    }
    if (spans === undefined) return this.send(messages);
    try {
      const published = await this.send(messages);
      for (const span of spans) span.end();
      return published;
    } catch (error) {
      for (const span of spans) span.end(error);
      throw error;
    }
  }

  /**
   * Sends messages already built by {@link prepare} (as the transactional outbox stores them)
   * unchanged: no second serialization, validation or header building. In order.
   */
  async publishPrepared(messages: readonly WireMessage[]): Promise<PublishedMessage[]> {
    this.assertOpen();
    const given: unknown = messages;
    if (!Array.isArray(given))
      throw new InvalidOptionError('messages', messages, 'an array of prepared messages', 'INVALID_ARGUMENT');
    for (const message of given as readonly WireMessage[]) {
      plainObject('message', message, 'INVALID_ARGUMENT');
      topicName('message.topic', message.topic);
      nonEmptyString('message.id', message.id, 'INVALID_ARGUMENT');
    }
    return this.sendPrepared(given as WireMessage[]);
  }

  /** Sends prepared messages under a client span linked to each message's producer span. */
  private async sendPrepared(messages: WireMessage[]): Promise<PublishedMessage[]> {
    const span = sendSpan(this.system, messages);
    if (span === undefined) return this.send(messages);
    if (span.span === undefined) return span.run(() => this.send(messages));
    try {
      const published = await span.run(() => this.send(messages));
      span.end();
      return published;
    } catch (error) {
      span.end(error);
      throw error;
    }
  }

  /**
   * Starts the producer span of a message built here and puts its context in the headers; a
   * `traceparent` the caller gave in `options.headers` is its parent.
   */
  private trace(operation: 'create' | 'send', message: WireMessage, options: PublishOptions | undefined) {
    if (!tracingEnabled()) return undefined;
    const given = options?.headers;
    const parent = given?.traceparent === undefined ? undefined : extractContext(given);
    return traceProducer(this.system, operation, message, parent);
  }

  private async send(messages: WireMessage[]): Promise<PublishedMessage[]> {
    try {
      await this.adapter.publish(messages);
    } catch (error) {
      // The adapter's own verdicts (closed, bad input) stand; a transport that is away is a failed publish.
      if (MessagingError.isInstance(error) && error.code !== 'ADAPTER_UNAVAILABLE') throw error;
      throw new MessagingError(
        'PUBLISH_FAILED',
        `Publishing to ${describeTopics(messages)} on ${this.adapter.name} failed: ${errorMessage(error)}`,
        {
          cause: error,
          isRetryable: true,
          topic: messages[0]?.topic,
        },
      );
    }
    const published = messages.map(({ id, topic, key, timestamp, headers }) => ({
      id,
      topic,
      key,
      timestamp,
      headers,
    }));
    if (this.events.has('published'))
      for (const message of published)
        this.events.emit('published', { topic: message.topic, id: message.id, key: message.key });
    return published;
  }

  /**
   * The wire form of a message, checked (topic, options, serializability, schema) but not sent:
   * what the outbox stores so that a bad message fails in the caller's transaction, not in the relay.
   * With an OpenTelemetry SDK, a producer span (`create`) marks its creation and its context is
   * in the headers.
   */
  async prepare(topic: string, payload: unknown, options?: PublishOptions): Promise<WireMessage> {
    const message = await this.build(topic, payload, options);
    // The message is created now and sent later (by the outbox relay): its producer span ends here,
    // and the consumer's span continues from the context stored with it.
    this.trace('create', message, options)?.end();
    return message;
  }

  private async build(topic: string, payload: unknown, options: PublishOptions | undefined): Promise<WireMessage> {
    const message = buildMessage(topic, payload, options, this.serializer);
    const schema = this.validateOnPublish ? this.schemas.get(topic) : undefined;
    if (schema) await this.check(schema, topic, payload);
    return message;
  }

  private async check(schema: PayloadSchema, topic: string, payload: unknown): Promise<void> {
    const checked = await checkPayload(schema, topic, payload);
    if (!checked.ok) throw checked.error;
  }

  /**
   * Calls `handler` for each message of `topic` in the subscription's group. Returns at once; the
   * subscription starts in the background (`await subscription.ready()` to wait for it).
   */
  subscribe<K extends string>(
    topic: K,
    handler: MessageHandler<PayloadOf<K>>,
    options: SubscribeOptions = {},
  ): Subscription {
    this.assertOpen();
    topicName('topic', topic);
    fn('handler', handler);
    const resolved = resolveSubscribeOptions(topic, options, this.defaults, this.schemas.get(topic));
    const subscription = new Subscription(topic, handler as MessageHandler, resolved, this.host);
    this.live.add(subscription);
    this.startLagTimer();
    return subscription;
  }

  /** The subscriptions that are running or starting. */
  get subscriptions(): readonly Subscription[] {
    return [...this.live];
  }

  /** Checks the adapter and the backlog of every subscription; never throws. */
  healthCheck(): Promise<MessagingHealth> {
    const targets = [...this.live].map((subscription) => ({
      topic: subscription.topic,
      group: subscription.group,
      inFlight: subscription.inFlightCount,
      problem: subscription.failure,
    }));
    return adapterHealth(this.adapter, targets, {
      warnBacklog: this.healthWarnBacklog,
      timeoutMs: this.healthTimeoutMs,
    });
  }

  /** Closes every subscription (draining within `timeoutMs`), then the adapter. Idempotent. */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.stopLagTimer();
      await Promise.all([...this.live].map((subscription) => subscription.close(options)));
      await this.adapter.close(options);
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  private assertOpen(): void {
    if (this.closing) throw new MessagingError('CLOSED', `This message bus (${this.adapter.name}) is closed`);
  }

  private startLagTimer(): void {
    if (this.lagTimer || this.lagIntervalMs === 0) return;
    this.lagTimer = setInterval(() => {
      void this.reportLag();
    }, this.lagIntervalMs);
    this.lagTimer.unref();
  }

  private stopLagTimer(): void {
    clearInterval(this.lagTimer);
    this.lagTimer = undefined;
  }

  private async reportLag(): Promise<void> {
    if (!this.events.has('lag')) return;
    for (const subscription of this.live) {
      try {
        const backlog = await this.adapter.backlog(subscription.topic, subscription.group);
        this.events.emit('lag', { topic: subscription.topic, group: subscription.group, ...backlog });
      } catch (error) {
        this.events.emit('error', { operation: 'lag', topic: subscription.topic, group: subscription.group, error });
      }
    }
  }
}

function describeTopics(messages: readonly WireMessage[]): string {
  const topics = [...new Set(messages.map((message) => `"${message.topic}"`))];
  return topics.length > 3 ? `${topics.slice(0, 3).join(', ')}, …` : topics.join(', ');
}
