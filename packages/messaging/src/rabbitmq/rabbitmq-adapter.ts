import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import type { AdapterSubscription, Backlog, MessageAdapter, SubscribeSpec, WireMessage } from '../adapter.js';
import { InvalidOptionError, MessagingError, errorMessage, isMessagingError, missingPeer } from '../errors.js';
import { RabbitMqConnection, settleWithin, within } from './rabbitmq-connection.js';
import { publishArguments } from './rabbitmq-message.js';
import {
  connectionUrl,
  injectedConnection,
  resolveSettings,
  type RabbitMqAdapterOptions,
  type RabbitMqSettings,
} from './rabbitmq-options.js';
import { RabbitMqSubscription } from './rabbitmq-subscription.js';

const OWNER = 'The RabbitMQ messaging adapter';
/** RabbitMQ's limit on exchange and queue names (bytes). */
const MAX_NAME_BYTES = 255;

/**
 * A channel created on demand on the current connection and forgotten when it closes or the
 * connection is replaced, so that the next call opens a fresh one.
 */
class ChannelSlot<C extends Channel> {
  private slot: { generation: number; channel: Promise<C> } | undefined;

  constructor(
    private readonly connection: RabbitMqConnection,
    private readonly create: (model: ChannelModel) => Promise<C>,
    private readonly timeoutMs: number,
  ) {}

  async get(): Promise<C> {
    const { model, generation } = await this.connection.open();
    if (this.slot?.generation === generation) return this.slot.channel;
    const channel = within(this.create(model), this.timeoutMs).then((created) => {
      // Failures on these channels (a queue that does not exist) reject the call that caused them.
      created.on('error', () => undefined);
      created.on('close', () => {
        if (this.slot?.channel === channel) this.slot = undefined;
      });
      return created;
    });
    this.slot = { generation, channel };
    channel.catch(() => {
      if (this.slot?.channel === channel) this.slot = undefined;
    });
    return channel;
  }

  async close(timeoutMs: number): Promise<void> {
    const slot = this.slot;
    this.slot = undefined;
    if (slot)
      await settleWithin(
        slot.channel.then((channel) => channel.close()),
        timeoutMs,
      );
  }
}

/**
 * RabbitMQ transport: a durable direct exchange per topic, a durable queue per group bound to it
 * (quorum where the server has them), publisher confirms, manual acknowledgements with `prefetch`
 * as back-pressure, and recovery of the connection, channels and consumers when they drop.
 * Consumers of one group compete for its queue, so per-key order holds within one consumer; with
 * `singleActiveConsumer` it holds across the group, whose other consumers stand by.
 */
export class RabbitMqAdapter implements MessageAdapter {
  readonly name: string = 'rabbitmq';
  readonly capabilities: MessageAdapter['capabilities'];
  /** Type of the group queues this adapter declares. */
  readonly queueType: 'quorum' | 'classic';
  private readonly subscriptions = new Set<RabbitMqSubscription>();
  private readonly commands: ChannelSlot<Channel>;
  private readonly confirms: ChannelSlot<ConfirmChannel>;
  /** Exchanges declared on the current connection (a restarted server may have lost them). */
  private exchanges = new Map<string, Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly connection: RabbitMqConnection,
    private readonly settings: RabbitMqSettings,
    private readonly owned: boolean,
  ) {
    this.queueType = settings.queueType ?? (supportsQuorum(connection.serverVersion()) ? 'quorum' : 'classic');
    this.capabilities = {
      orderingPerKey: settings.singleActiveConsumer,
      persistence: true,
      consumerGroups: !settings.singleActiveConsumer,
      // A queue receives what is published after it exists: nothing earlier to replay.
      replay: false,
    };
    const timeoutMs = settings.commandTimeoutMs;
    this.commands = new ChannelSlot(connection, (model) => model.createChannel(), timeoutMs);
    this.confirms = new ChannelSlot(connection, (model) => model.createConfirmChannel(), timeoutMs);
    connection.onReopen(() => {
      this.exchanges = new Map();
    });
  }

  /** @internal Use {@link createRabbitMqAdapter}. */
  static async create(options: RabbitMqAdapterOptions): Promise<RabbitMqAdapter> {
    const settings = resolveSettings(options);
    if (options.connection !== undefined) {
      const connection = await RabbitMqConnection.open(undefined, injectedConnection(options.connection), settings);
      return new RabbitMqAdapter(connection, settings, false);
    }
    const url = withHeartbeat(connectionUrl(options), settings.heartbeatMs);
    const amqp = await loadAmqplib();
    const connect = (): Promise<ChannelModel> => amqp.connect(url, { timeout: settings.connectTimeoutMs });
    const connection = await RabbitMqConnection.open(connect, undefined, settings);
    return new RabbitMqAdapter(connection, settings, true);
  }

  /** Exchange of a topic. */
  exchangeName(topic: string): string {
    return `${this.settings.exchangePrefix}${topic}`;
  }

  /** Queue of a group on a topic; `@` cannot occur in a topic, so two pairs never share a queue. */
  queueName(topic: string, group: string): string {
    return `${this.settings.queuePrefix}${topic}@${group}`;
  }

  checkTopicName(topic: string): string | undefined {
    const exchange = this.exchangeName(topic);
    if (exchange.startsWith('amq.')) return 'a name that does not start with "amq." (reserved by RabbitMQ)';
    if (Buffer.byteLength(exchange) > MAX_NAME_BYTES)
      return `a name of at most ${MAX_NAME_BYTES} bytes with the exchange prefix`;
    return undefined;
  }

  onConnectionError(listener: (error: unknown) => void): () => void {
    return this.connection.onError(listener);
  }

  /**
   * Publishes in order on a confirm channel; resolves once RabbitMQ confirmed every message (it
   * has them in every queue bound to the topic's exchange). A message it refuses, a connection lost
   * before the confirm, or no confirm within `publishTimeoutMs` fail the call with a retryable
   * `PUBLISH_FAILED`: some of its messages may have arrived (at least once).
   */
  async publish(messages: readonly WireMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    const deadline = Date.now() + this.settings.publishTimeoutMs;
    try {
      let topic: string | undefined;
      for (const message of messages) {
        if (message.topic === topic) continue;
        topic = message.topic;
        await this.declareExchange(topic);
      }
      const channel = await this.confirms.get();
      // One promise for the batch, settled by a count of confirms, not one per message.
      let unconfirmed = messages.length;
      let settle!: { resolve: () => void; reject: (error: Error) => void };
      const confirmed = new Promise<void>((resolve, reject) => {
        settle = { resolve, reject };
      });
      // Marked handled here: a failure is reported once, by the wait below (or not at all when a write fails first).
      confirmed.catch(() => undefined);
      const onConfirm = (error: unknown): void => {
        if (error) settle.reject(error instanceof Error ? error : new Error('RabbitMQ refused the message'));
        else if (--unconfirmed === 0) settle.resolve();
      };
      for (const message of messages) {
        const { content, options } = publishArguments(message);
        if (!channel.publish(this.exchangeName(message.topic), '', content, options, onConfirm))
          await drained(channel, deadline);
      }
      await within(confirmed, Math.max(1, deadline - Date.now()));
    } catch (error) {
      if (isMessagingError(error, 'CLOSED')) throw error;
      // Declared again by the next publish, in case the failure was an exchange deleted meanwhile.
      for (const message of messages) this.exchanges.delete(this.exchangeName(message.topic));
      const topic = messages[0]?.topic;
      throw new MessagingError(
        'PUBLISH_FAILED',
        `RabbitMQ did not confirm ${messages.length} message(s) to "${String(topic)}": ${errorMessage(error)}`,
        { topic, cause: error, isRetryable: true },
      );
    }
  }

  async subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    this.assertOpen();
    const exchange = this.exchangeName(spec.topic);
    const queue = this.queueName(spec.topic, spec.group);
    // An exchange drops what no queue is bound to: the group's queue on its dead-letter topic is
    // declared now, so that its dead letters wait there for whoever subscribes to that topic.
    const deadLetters =
      spec.deadLetterTopic == null
        ? undefined
        : {
            exchange: this.exchangeName(spec.deadLetterTopic),
            queue: this.queueName(spec.deadLetterTopic, spec.group),
          };
    for (const name of [queue, deadLetters?.queue]) {
      if (name !== undefined && Buffer.byteLength(name) > MAX_NAME_BYTES)
        throw new InvalidOptionError(
          'group',
          spec.group,
          `a group whose queue name "${name}" fits in ${MAX_NAME_BYTES} bytes`,
          'INVALID_ARGUMENT',
        );
    }
    const args: Record<string, unknown> = { 'x-queue-type': this.queueType };
    if (this.settings.singleActiveConsumer) args['x-single-active-consumer'] = true;
    const { commandTimeoutMs } = this.settings;
    const bind = async (channel: Channel, target: { exchange: string; queue: string }): Promise<void> => {
      await within(channel.assertExchange(target.exchange, 'direct', { durable: true }), commandTimeoutMs);
      await within(channel.assertQueue(target.queue, { durable: true, arguments: args }), commandTimeoutMs);
      await within(channel.bindQueue(target.queue, target.exchange, ''), commandTimeoutMs);
    };
    const subscription = new RabbitMqSubscription(
      {
        connection: this.connection,
        prefetch: this.settings.prefetch,
        commandTimeoutMs,
        reconnectDelayMs: this.settings.reconnectDelayMs,
        maxReconnectDelayMs: this.settings.maxReconnectDelayMs,
        declare: async (channel) => {
          await bind(channel, { exchange, queue });
          if (deadLetters !== undefined) await bind(channel, deadLetters);
        },
        closed: (closed) => this.subscriptions.delete(closed),
      },
      spec.topic,
      queue,
    );
    await subscription.start();
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * `lag`: messages ready in the group's queue plus those this process received and has not handed
   * to a handler yet; `pending`: handed to this process's handlers and not acknowledged (RabbitMQ
   * does not tell how many other processes hold). A queue that does not exist yet has no lag to tell.
   */
  async backlog(topic: string, group: string): Promise<Backlog> {
    const queue = this.queueName(topic, group);
    const channel = await this.commands.get();
    let ready: number;
    try {
      ({ messageCount: ready } = await within(channel.checkQueue(queue), this.settings.commandTimeoutMs));
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return { pending: 0, lag: null };
      throw error;
    }
    let pending = 0;
    let buffered = 0;
    for (const subscription of this.subscriptions) {
      if (subscription.queue !== queue) continue;
      pending += subscription.pending;
      buffered += subscription.buffered;
    }
    return { pending, lag: ready + buffered };
  }

  /** Fails at once while the connection is down or blocked; else asks RabbitMQ (bounded by `commandTimeoutMs`). */
  async ping(): Promise<void> {
    this.assertOpen();
    // Down, or blocked by an alarm (RabbitMQ then reads nothing from the connection, pings included).
    const problem = this.connection.problem();
    if (problem !== undefined || !this.connection.current())
      throw new MessagingError('ADAPTER_UNAVAILABLE', problem ?? 'RabbitMQ connection is down', { isRetryable: true });
    const channel = await this.commands.get();
    try {
      await within(channel.checkExchange('amq.direct'), this.settings.commandTimeoutMs);
    } catch (error) {
      throw new MessagingError('ADAPTER_UNAVAILABLE', `RabbitMQ does not answer: ${errorMessage(error)}`, {
        cause: error,
        isRetryable: true,
      });
    }
  }

  problems(): string[] {
    const found: string[] = [];
    const down = this.connection.problem();
    if (down !== undefined && !this.connection.current()) return [down];
    if (down !== undefined) found.push(down);
    for (const subscription of this.subscriptions) {
      const problem = subscription.problem();
      if (problem !== undefined) found.push(problem);
    }
    return found;
  }

  /**
   * Closes the subscriptions' channels (RabbitMQ returns what they did not acknowledge to the
   * queues), the adapter's own channels and, unless it was injected, the connection. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      const timeoutMs = options.timeoutMs ?? this.settings.commandTimeoutMs;
      await Promise.all([...this.subscriptions].map((subscription) => subscription.abort(timeoutMs)));
      this.subscriptions.clear();
      await Promise.all([this.commands.close(timeoutMs), this.confirms.close(timeoutMs)]);
      await this.connection.close(this.owned, timeoutMs);
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Declares a topic's exchange once per connection: publishing to a missing one would close the channel. */
  private declareExchange(topic: string): Promise<unknown> {
    const exchange = this.exchangeName(topic);
    let declared = this.exchanges.get(exchange);
    if (declared === undefined) {
      const exchanges = this.exchanges;
      declared = this.commands
        .get()
        .then((channel) =>
          within(channel.assertExchange(exchange, 'direct', { durable: true }), this.settings.commandTimeoutMs),
        );
      declared.catch(() => exchanges.delete(exchange));
      exchanges.set(exchange, declared);
    }
    return declared;
  }

  private assertOpen(): void {
    if (this.closing) throw new MessagingError('CLOSED', 'The RabbitMQ adapter is closed');
  }
}

/** Quorum queues came with RabbitMQ 3.8. */
function supportsQuorum(version: string | undefined): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const major = Number(match[1]);
  return major > 3 || (major === 3 && Number(match[2]) >= 8);
}

/** The URL with the heartbeat (whole seconds) unless it sets one itself. */
function withHeartbeat(url: string, heartbeatMs: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat'))
    parsed.searchParams.set('heartbeat', String(Math.ceil(heartbeatMs / 1000)));
  return parsed.toString();
}

/** Waits for a channel whose write buffer was full to drain (or close, or the deadline to pass). */
function drained(channel: Channel, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      channel.off('drain', onDrain);
      channel.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => {
      done();
    };
    const onClose = (): void => {
      done(new Error('channel closed'));
    };
    const timer = setTimeout(
      () => {
        done(new Error('RabbitMQ did not take the messages in time'));
      },
      Math.max(1, deadline - Date.now()),
    );
    timer.unref();
    channel.on('drain', onDrain);
    channel.on('close', onClose);
  });
}

async function loadAmqplib(): Promise<typeof import('amqplib')> {
  try {
    return await import('amqplib');
  } catch (error) {
    throw missingPeer('amqplib', OWNER, error);
  }
}

/**
 * A RabbitMQ adapter on a connection it opens from `options.url` (default `RABBITMQ_URL`) and
 * keeps open, loading `amqplib` only then; or on an injected amqplib connection, never closed.
 */
export function createRabbitMqAdapter(options: RabbitMqAdapterOptions = {}): Promise<RabbitMqAdapter> {
  return RabbitMqAdapter.create(options);
}
