import { InvalidOptionError } from '../errors.js';
import { integer, nonEmptyString, nonNegative, oneOf, plainObject, withMethods } from '../validate.js';
import type { NatsConnectionLike } from './nats-client.js';

export interface NatsAdapterOptions {
  /**
   * NATS server(s) to connect to (`host:port` or `nats://host:port`), for a connection the adapter
   * creates and closes. Required unless `connection` is given. @default process.env.NATS_SERVERS
   * (comma-separated)
   */
  servers?: string | string[];
  /**
   * A connection from `@nats-io/transport-node` to use instead; the adapter never closes it and
   * does not change its reconnect settings. @default none: one is created from `servers`
   */
  connection?: NatsConnectionLike;
  /** Prefix of the stream of each topic (`<streamPrefix><topic>`, made a valid stream name). @default 'MESSAGING_' */
  streamPrefix?: string;
  /** Prefix of the subject of each topic (`<subjectPrefix>.<topic>`). @default 'messaging' */
  subjectPrefix?: string;
  /**
   * Retention of the streams the adapter creates: `limits` keeps messages up to `maxMessages` /
   * `maxAgeMs` (several groups can read them, `startFrom: 'earliest'` replays them); `interest`
   * drops a message once every consumer (group) has acknowledged it. @default 'limits'
   */
  retention?: 'limits' | 'interest';
  /** Storage of the streams the adapter creates. @default 'file' */
  storage?: 'file' | 'memory';
  /** Replicas of the streams the adapter creates (1 on a single server). @default 1 */
  replicas?: number;
  /** Most messages a stream keeps (the oldest go first); 0 for no limit. @default 1_000_000 */
  maxMessages?: number;
  /** Age past which a stream drops a message (ms); 0 for no limit. @default 0 */
  maxAgeMs?: number;
  /**
   * Window within which JetStream drops a message whose `Nats-Msg-Id` (the message id) it has
   * stored already (ms). @default 120_000
   */
  duplicateWindowMs?: number;
  /**
   * How long a delivered message may stay unacknowledged before JetStream gives it to another
   * consumer of the group (`AckWait`, ms). A consumer that is alive keeps its messages by telling
   * JetStream it is working on them; only those of a consumer that died come back. The bus's
   * `claimIdleMs`. @default 30_000
   */
  ackWaitMs?: number;
  /** Most messages one pull request asks for (each fetch asks for at most what the bus has room for). @default 100 */
  batchSize?: number;
  /** How long a pull request waits for messages on the server before it expires (ms). @default 2000 */
  fetchWaitMs?: number;
  /** Most publishes awaiting JetStream's acknowledgement at once within one `publish()` call. @default 256 */
  publishBatchSize?: number;
  /** Bound on each JetStream request: a publish acknowledgement, a stream or consumer call (ms). @default 5000 */
  requestTimeoutMs?: number;
  /** Name of the connection the adapter creates, shown by the server's monitoring. @default 'infra-messaging' */
  name?: string;
  /** Bound on establishing the first connection (ms). @default 2000 */
  connectTimeoutMs?: number;
  /** Pause between reconnect attempts of the connection the adapter creates (ms). @default 250 */
  reconnectTimeWaitMs?: number;
  /** Reconnect attempts per server before the connection gives up; -1 never gives up. @default -1 */
  maxReconnectAttempts?: number;
}

/** The options, checked, with their defaults. */
export interface ResolvedNatsOptions {
  servers: string[] | undefined;
  connection: NatsConnectionLike | undefined;
  streamPrefix: string;
  subjectPrefix: string;
  retention: 'limits' | 'interest';
  storage: 'file' | 'memory';
  replicas: number;
  maxMessages: number;
  maxAgeMs: number;
  duplicateWindowMs: number;
  ackWaitMs: number;
  batchSize: number;
  fetchWaitMs: number;
  publishBatchSize: number;
  requestTimeoutMs: number;
  name: string;
  connectTimeoutMs: number;
  reconnectTimeWaitMs: number;
  maxReconnectAttempts: number;
}

/** `nats://…` (or `tls://`, `ws://`, `wss://`), or `host`, `host:port`, `[ipv6]:port`. */
const serverPattern = /^(nats|tls|wss?):\/\/\S+$|^(\[[\da-f:]+\]|[^\s/:[\]]+)(:\d+)?$/i;
const subjectPrefixPattern = /^[\w-]+(\.[\w-]+)*$/;

export function resolveNatsOptions(options: NatsAdapterOptions): ResolvedNatsOptions {
  plainObject('options', options);
  const connection =
    options.connection === undefined
      ? undefined
      : withMethods<NatsConnectionLike>(
          'connection',
          options.connection,
          ['publish', 'subscribe', 'request', 'flush', 'status'],
          'a NATS connection from @nats-io/transport-node',
        );
  const servers = connection === undefined ? resolveServers(options.servers) : undefined;
  const streamPrefix = options.streamPrefix ?? 'MESSAGING_';
  if (typeof streamPrefix !== 'string' || !/^[\w-]*$/.test(streamPrefix))
    throw new InvalidOptionError('streamPrefix', streamPrefix, 'letters, digits, "_" and "-" only');
  const subjectPrefix = nonEmptyString('subjectPrefix', options.subjectPrefix ?? 'messaging');
  if (!subjectPrefixPattern.test(subjectPrefix))
    throw new InvalidOptionError(
      'subjectPrefix',
      subjectPrefix,
      'NATS subject tokens (letters, digits, "_", "-") joined by "."',
    );
  const maxReconnectAttempts = options.maxReconnectAttempts ?? -1;
  if (maxReconnectAttempts !== -1) integer('maxReconnectAttempts', maxReconnectAttempts, 0);
  const ackWaitMs = integer('ackWaitMs', options.ackWaitMs ?? 30_000, 100);
  return {
    servers,
    connection,
    streamPrefix,
    subjectPrefix,
    retention: oneOf('retention', options.retention ?? 'limits', ['limits', 'interest']),
    storage: oneOf('storage', options.storage ?? 'file', ['file', 'memory']),
    replicas: integer('replicas', options.replicas ?? 1),
    maxMessages: integer('maxMessages', options.maxMessages ?? 1_000_000, 0),
    maxAgeMs: integer('maxAgeMs', options.maxAgeMs ?? 0, 0),
    duplicateWindowMs: integer('duplicateWindowMs', options.duplicateWindowMs ?? 120_000),
    ackWaitMs,
    batchSize: integer('batchSize', options.batchSize ?? 100),
    fetchWaitMs: integer('fetchWaitMs', options.fetchWaitMs ?? 2000, 100),
    publishBatchSize: integer('publishBatchSize', options.publishBatchSize ?? 256),
    requestTimeoutMs: integer('requestTimeoutMs', options.requestTimeoutMs ?? 5000),
    name: nonEmptyString('name', options.name ?? 'infra-messaging'),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 2000),
    reconnectTimeWaitMs: nonNegative('reconnectTimeWaitMs', options.reconnectTimeWaitMs ?? 250),
    maxReconnectAttempts,
  };
}

function resolveServers(given: unknown): string[] {
  const fromEnv = given === undefined;
  const value = fromEnv ? process.env.NATS_SERVERS : given;
  const option = fromEnv ? 'NATS_SERVERS' : 'servers';
  const list = typeof value === 'string' ? value.split(',').map((server) => server.trim()) : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((server) => typeof server === 'string' && serverPattern.test(server))
  ) {
    throw new InvalidOptionError(
      option,
      value,
      'NATS server addresses ("host:port" or "nats://host:port", a string or an array), or pass a connection',
    );
  }
  return list as string[];
}
