import type { ChannelModel } from 'amqplib';
import { InvalidOptionError } from '../errors.js';
import { integer, nonNegative, oneOf, plainObject, withMethods } from '../validate.js';

export interface RabbitMqAdapterOptions {
  /**
   * `amqp://` or `amqps://` URL of a connection the adapter creates, reconnects and closes.
   * @default process.env.RABBITMQ_URL
   */
  url?: string | undefined;
  /**
   * An amqplib connection (the result of `amqplib.connect()`) to use instead of `url`. The adapter
   * opens its channels on it and never closes it; it cannot reconnect it either: when it closes,
   * the adapter stays unavailable until the caller builds a new one.
   * @default none: one is created from `url`
   */
  connection?: ChannelModel;
  /** Prefix of the exchange of every topic (`<exchangePrefix><topic>`). @default '' */
  exchangePrefix?: string;
  /** Prefix of the queue of every group (`<queuePrefix><topic>@<group>`). @default the `exchangePrefix` */
  queuePrefix?: string;
  /**
   * Type of the group queues the adapter declares: `quorum` (replicated, tracks delivery counts)
   * or `classic`. An existing queue keeps its type: RabbitMQ refuses to redeclare it differently.
   * @default 'quorum' when the server supports it (3.8 and later), else 'classic'
   */
  queueType?: 'quorum' | 'classic';
  /**
   * Declares group queues with `x-single-active-consumer`: one consumer of a group receives
   * everything, the others wait as standbys and take over when it goes away. Per-key order then
   * holds across the group, which no longer spreads load over its consumers.
   * @default false
   */
  singleActiveConsumer?: boolean;
  /**
   * Most unacknowledged messages RabbitMQ sends to one subscription (`basic.qos`): the bound on what
   * the adapter buffers ahead of the bus, and the back-pressure on the queue.
   * @default 100
   */
  prefetch?: number;
  /**
   * AMQP heartbeat (ms, sent in whole seconds, rounded up): a stalled connection is dropped after
   * about two missed beats. 0 turns it off with amqplib 2 and later (older ones then take the
   * server's). @default 10000
   */
  heartbeatMs?: number;
  /**
   * Bound on opening a connection, and on waiting for one while reconnecting before a call fails
   * (ms). @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * Bound on RabbitMQ confirming a `publish` (ms); past it the call fails with a retryable
   * `PUBLISH_FAILED`. @default 10000
   */
  publishTimeoutMs?: number;
  /** Bound on each declaration, queue check and ping (ms). @default 5000 */
  commandTimeoutMs?: number;
  /** First delay before reconnecting, doubled after each failed attempt (ms). @default 100 */
  reconnectDelayMs?: number;
  /** Longest delay between two reconnection attempts (ms). @default 5000 */
  maxReconnectDelayMs?: number;
}

/** Options checked once, with their defaults. */
export interface RabbitMqSettings {
  readonly exchangePrefix: string;
  readonly queuePrefix: string;
  readonly queueType: 'quorum' | 'classic' | undefined;
  readonly singleActiveConsumer: boolean;
  readonly prefetch: number;
  readonly heartbeatMs: number;
  readonly connectTimeoutMs: number;
  readonly publishTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
}

/** Validates every option (a coded `INVALID_OPTION` naming the bad one) and applies the defaults. */
export function resolveSettings(options: RabbitMqAdapterOptions): RabbitMqSettings {
  plainObject('options', options);
  const exchangePrefix = prefix('exchangePrefix', options.exchangePrefix ?? '');
  const reconnectDelayMs = integer('reconnectDelayMs', options.reconnectDelayMs ?? 100);
  const maxReconnectDelayMs = integer('maxReconnectDelayMs', options.maxReconnectDelayMs ?? 5000);
  if (maxReconnectDelayMs < reconnectDelayMs)
    throw new InvalidOptionError('maxReconnectDelayMs', maxReconnectDelayMs, 'at least reconnectDelayMs');
  const singleActiveConsumer: unknown = options.singleActiveConsumer ?? false;
  if (typeof singleActiveConsumer !== 'boolean')
    throw new InvalidOptionError('singleActiveConsumer', singleActiveConsumer, 'a boolean');
  return {
    exchangePrefix,
    queuePrefix: prefix('queuePrefix', options.queuePrefix ?? exchangePrefix),
    queueType:
      options.queueType === undefined
        ? undefined
        : oneOf<'quorum' | 'classic'>('queueType', options.queueType, ['quorum', 'classic']),
    singleActiveConsumer,
    // RabbitMQ's prefetch count is an unsigned 16-bit field.
    prefetch: range('prefetch', options.prefetch ?? 100, 1, 65_535),
    heartbeatMs: nonNegative('heartbeatMs', options.heartbeatMs ?? 10_000),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 5000),
    publishTimeoutMs: integer('publishTimeoutMs', options.publishTimeoutMs ?? 10_000),
    commandTimeoutMs: integer('commandTimeoutMs', options.commandTimeoutMs ?? 5000),
    reconnectDelayMs,
    maxReconnectDelayMs,
  };
}

/** The URL to connect to: `url`, else `RABBITMQ_URL`; a coded error naming whichever is wrong. */
export function connectionUrl(options: RabbitMqAdapterOptions): string {
  const url: unknown = options.url ?? process.env.RABBITMQ_URL;
  const option = options.url === undefined ? 'RABBITMQ_URL' : 'url';
  if (typeof url !== 'string' || url === '')
    throw new InvalidOptionError(option, url, 'an amqp:// URL (or set RABBITMQ_URL), or pass a connection');
  // The value is not echoed: a URL carries credentials.
  if (!/^amqps?:\/\//.test(url)) throw new InvalidOptionError(option, '(hidden)', 'an amqp:// or amqps:// URL');
  return url;
}

/** The injected connection, checked for the methods the adapter calls. */
export function injectedConnection(value: unknown): ChannelModel {
  return withMethods<ChannelModel>(
    'connection',
    value,
    ['createChannel', 'createConfirmChannel', 'on', 'close'],
    'an amqplib connection (the result of amqplib.connect())',
  );
}

function prefix(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.startsWith('amq.') || value.length > 200)
    throw new InvalidOptionError(option, value, 'a string of at most 200 characters, not starting with "amq."');
  return value;
}

function range(option: string, value: unknown, min: number, max: number): number {
  const checked = integer(option, value, min);
  if (checked > max) throw new InvalidOptionError(option, value, `an integer from ${min} to ${max}`);
  return checked;
}
