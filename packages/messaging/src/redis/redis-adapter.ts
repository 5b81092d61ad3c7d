import { EventHub } from '@infra/core';
import {
  closeClient,
  createRedisClient,
  duplicateClient,
  whenReady,
  type RedisClient,
  type RedisConnection,
} from '@infra/core/redis';
import { ConnectionEventSource } from '../connection-events.js';
import type { AdapterSubscription, Backlog, MessageAdapter, SubscribeSpec, WireMessage } from '../adapter.js';
import { InvalidOptionError, MessagingError } from '../errors.js';
import { integer, plainObject } from '../validate.js';
import { RedisStreamSubscription } from './redis-subscription.js';
import { APPEND_SCRIPT_SOURCE, entryBody, entryEnvelope, entryFields } from './stream-entry.js';

/** Entries per script call: Redis runs a script to its end, so a chunk must stay short (about a millisecond). */
const APPEND_CHUNK = 500;
const OWNER = 'The Redis messaging adapter';

export interface RedisAdapterOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) to use; it is never closed by the adapter. Each
   * subscription reads on a duplicate of it. With a Cluster, give every topic's stream key a
   * hash tag if scripts or several keys must land on one node (see the README).
   * @default none: one is created from `connection`
   */
  client?: RedisClient;
  /** Connection URL or options of a client the adapter creates (and closes). @default process.env.REDIS_URL */
  connection?: RedisConnection | undefined;
  /** Prefix of every stream key (`<prefix><topic>`); do not use ioredis `keyPrefix` instead. @default '' */
  prefix?: string;
  /** Approximate length each stream is trimmed to on publish (`MAXLEN ~`); 0 turns trimming off. @default 100_000 */
  maxLen?: number;
  /** How long one `XREADGROUP` blocks waiting for messages (ms). @default 2000 */
  blockMs?: number;
  /** Most entries read (or claimed) per call. @default 100 */
  batchSize?: number;
  /**
   * A pending entry idle this long (its consumer died) is claimed by another consumer with `XAUTOCLAIM` (ms). @default
   * 30_000
   */
  claimIdleMs?: number;
  /**
   * Bound on establishing a connection (ms): a call made while Redis is away fails after it instead of waiting.
   * @default 2000
   */
  connectTimeoutMs?: number;
  /**
   * Bound on each command of a client the adapter creates (ms); a blocking read gets `blockMs` on top.
   * @default 2000
   */
  commandTimeoutMs?: number;
}

/** Events of the adapter: failures of the connections it created, which it recovers from by reconnecting. */
export interface RedisAdapterEvents {
  error: { error: Error; connection: 'commands' | 'blocking' };
}

const capabilities: MessageAdapter['capabilities'] = {
  orderingPerKey: false,
  persistence: true,
  consumerGroups: true,
  replay: true,
};

/**
 * Redis Streams transport: one stream per topic, consumer groups, acknowledgements, reclaim of
 * entries left pending by dead consumers, approximate `MAXLEN` trimming, and recovery when Redis
 * loses its data (a group that vanished is created again). Per-key order holds within one
 * subscription; the consumers of a group share entries without regard to keys.
 */
export class RedisStreamsAdapter extends ConnectionEventSource<RedisAdapterEvents> implements MessageAdapter {
  readonly name: string = 'redis';
  readonly capabilities: MessageAdapter['capabilities'] = capabilities;
  readonly client: RedisClient;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly maxLen: number;
  private readonly blockMs: number;
  private readonly batchSize: number;
  private readonly claimIdleMs: number;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly open = new Set<RedisStreamSubscription>();
  private closing: Promise<void> | undefined;

  /** Uses `options.client`; see {@link createRedisAdapter} to connect from a URL. */
  constructor(options: RedisAdapterOptions & { client: RedisClient }, owned = false) {
    super();
    plainObject('options', options);
    const client = options.client as Partial<RedisClient> | undefined;
    if (typeof client?.duplicate !== 'function' || typeof client.xadd !== 'function') {
      throw new InvalidOptionError('client', options.client, 'an ioredis client (Redis or Cluster)');
    }
    this.client = options.client;
    this.owned = owned;
    const prefix: unknown = options.prefix ?? '';
    this.prefix = typeof prefix === 'string' ? prefix : invalid('prefix', prefix, 'a string');
    this.maxLen = integer('maxLen', options.maxLen ?? 100_000, 0);
    this.blockMs = integer('blockMs', options.blockMs ?? 2000);
    this.batchSize = integer('batchSize', options.batchSize ?? 100);
    this.claimIdleMs = integer('claimIdleMs', options.claimIdleMs ?? 30_000);
    this.connectTimeoutMs = integer('connectTimeoutMs', options.connectTimeoutMs ?? 2000);
    this.commandTimeoutMs = integer('commandTimeoutMs', options.commandTimeoutMs ?? 2000);
  }

  /** Stream key of a topic. */
  streamKey(topic: string): string {
    return `${this.prefix}${topic}`;
  }

  /**
   * Appends the messages in order; resolves only once Redis has answered every append with an
   * entry id, so that a caller such as the outbox relay never counts an unacknowledged message as sent.
   */
  async publish(messages: readonly WireMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    await this.ready();
    const trim: (string | number)[] = this.maxLen > 0 ? ['MAXLEN', '~', this.maxLen] : [];
    if (messages.length === 1) {
      const message = messages[0] as WireMessage;
      const id = await this.client.xadd(this.streamKey(message.topic), ...trim, '*', ...entryFields(message));
      if (typeof id !== 'string') throw notAppended(message.topic, 1, 0);
      return;
    }
    // One script call per stream and chunk instead of one XADD per message (see PERFORMANCE.md).
    // EVAL, not EVALSHA: a script missing from Redis's cache cannot fail one chunk while a later one lands.
    const byStream = new Map<string, { topic: string; chunks: (string | Buffer)[][] }>();
    const maxLen = String(this.maxLen);
    for (const message of messages) {
      const key = this.streamKey(message.topic);
      let stream = byStream.get(key);
      if (stream === undefined) byStream.set(key, (stream = { topic: message.topic, chunks: [] }));
      let chunk = stream.chunks[stream.chunks.length - 1];
      if (chunk === undefined || chunk.length >= 2 + 2 * APPEND_CHUNK) stream.chunks.push((chunk = [key, maxLen]));
      chunk.push(entryEnvelope(message), entryBody(message));
    }
    const calls: Promise<void>[] = [];
    for (const { topic, chunks } of byStream.values()) {
      for (const args of chunks) {
        const expected = (args.length - 2) / 2;
        calls.push(
          this.client.eval(APPEND_SCRIPT_SOURCE, 1, args).then((appended) => {
            if (appended !== expected) throw notAppended(topic, expected, appended);
          }),
        );
      }
    }
    await Promise.all(calls);
  }

  async subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    this.assertOpen();
    await this.ready();
    const streamKey = this.streamKey(spec.topic);
    await this.ensureGroup(streamKey, spec.group, spec.startFrom === 'earliest' ? '0' : '$');
    // BLOCK holds a connection: each subscription gets its own, whose command timeout covers the block.
    const blocking = duplicateClient(this.client, {
      commandTimeout: this.blockMs + this.commandTimeoutMs,
      connectTimeout: this.connectTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: blockingReconnectDelay,
    });
    blocking.on('error', (error: Error) => {
      this.events.emit('error', { error, connection: 'blocking' });
    });
    const subscription = new RedisStreamSubscription(
      this.client,
      blocking,
      spec,
      {
        streamKey,
        blockMs: this.blockMs,
        batchSize: this.batchSize,
        claimIdleMs: this.claimIdleMs,
        connectTimeoutMs: this.connectTimeoutMs,
      },
      (closed) => this.open.delete(closed),
      (key, group, start) => this.ensureGroup(key, group, start),
    );
    this.open.add(subscription);
    return subscription;
  }

  async backlog(topic: string, group: string): Promise<Backlog> {
    let groups: unknown[][];
    try {
      groups = (await this.client.call('XINFO', 'GROUPS', this.streamKey(topic))) as unknown[][];
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return { pending: 0, lag: 0 };
      throw error;
    }
    for (const fields of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
      if (info.get('name') !== group) continue;
      const lag = info.get('lag');
      return { pending: Number(info.get('pending') ?? 0), lag: lag === null || lag === undefined ? null : Number(lag) };
    }
    return { pending: 0, lag: null };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    if (this.client.status === 'reconnecting' || this.client.status === 'end' || this.client.status === 'close')
      throw new MessagingError('ADAPTER_UNAVAILABLE', `Redis connection is ${this.client.status}`, {
        isRetryable: true,
      });
    await this.ready();
    await this.client.ping();
  }

  /**
   * Disconnects the subscriptions' connections and closes the client if the adapter created it. Idempotent.
   * `timeoutMs` bounds the wait for a clean QUIT; past it the connection is dropped.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      for (const subscription of this.open) subscription.abort();
      this.open.clear();
      if (this.owned) await closeWithin(this.client, options.timeoutMs ?? this.commandTimeoutMs);
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Waits (within `connectTimeoutMs`) for a client that is connecting; fails fast with a coded error otherwise. */
  private async ready(): Promise<void> {
    if (this.client.status === 'ready') return;
    try {
      await whenReady(this.client, this.connectTimeoutMs, OWNER);
    } catch (error) {
      throw new MessagingError('ADAPTER_UNAVAILABLE', `Redis is not reachable: ${(error as Error).message}`, {
        cause: error,
        isRetryable: true,
      });
    }
  }

  private async ensureGroup(streamKey: string, group: string, start: string): Promise<void> {
    try {
      await this.client.call('XGROUP', 'CREATE', streamKey, group, start, 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) throw error;
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new MessagingError('CLOSED', 'The Redis adapter is closed');
  }
}

function invalid(option: string, value: unknown, expected: string): never {
  throw new InvalidOptionError(option, value, expected);
}

function notAppended(topic: string, expected: number, got: unknown): MessagingError {
  return new MessagingError('PUBLISH_FAILED', `Redis appended ${String(got)} of ${expected} messages to "${topic}"`, {
    topic,
    isRetryable: true,
  });
}

async function closeWithin(client: RedisClient, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([closeClient(client).catch(() => undefined), deadline]);
  clearTimeout(timer);
  if (client.status !== 'end') client.disconnect();
}

/**
 * A Redis Streams adapter on `options.client`, or on a client it creates from `options.connection`
 * (default `REDIS_URL`) with fail-fast settings, loading `ioredis` only then.
 */
export async function createRedisAdapter(options: RedisAdapterOptions = {}): Promise<RedisStreamsAdapter> {
  plainObject('options', options);
  if (options.client) return new RedisStreamsAdapter({ ...options, client: options.client });
  const connection = options.connection ?? process.env.REDIS_URL;
  if (connection === undefined || connection === '') {
    throw new InvalidOptionError(
      'connection',
      connection,
      'a redis:// URL or ioredis options (or set REDIS_URL), or pass a client',
    );
  }
  if (typeof connection === 'string' && !/^rediss?:\/\//.test(connection)) {
    throw new InvalidOptionError(
      options.connection === undefined ? 'REDIS_URL' : 'connection',
      '(hidden)',
      'a redis:// or rediss:// URL',
    );
  }
  if (typeof connection !== 'string') plainObject('connection', connection);
  const connectTimeoutMs = integer('connectTimeoutMs', options.connectTimeoutMs ?? 2000);
  const commandTimeoutMs = integer('commandTimeoutMs', options.commandTimeoutMs ?? 2000);
  const events = new EventHub<RedisAdapterEvents>();
  const client = await createRedisClient(connection, {
    owner: OWNER,
    connectTimeoutMs,
    commandTimeoutMs,
    onError: (error) => {
      events.emit('error', { error, connection: 'commands' });
    },
    missingPeer: (message, cause) => new MessagingError('MISSING_PEER', message, { cause }),
  });
  try {
    const adapter = new RedisStreamsAdapter({ ...options, client }, true);
    events.on('error', (event) => {
      adapter.events.emit('error', event);
    });
    return adapter;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/**
 * Wait before reconnect attempt `times` of a subscription's blocking connection (ms): 50 ms more
 * each time, never over 250 ms. A refused connection costs nothing, so it retries often and
 * consuming resumes soon after Redis is back, however long it was away.
 */
export function blockingReconnectDelay(times: number): number {
  return Math.min(50 * Math.max(times, 1), 250);
}
