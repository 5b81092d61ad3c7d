import type { Redis, RedisOptions } from 'ioredis';
import type {
  AdapterCapabilities,
  AdapterSubscription,
  Backlog,
  MessageAdapter,
  SubscribeSpec,
  WireMessage,
} from '../adapter.js';
import { InvalidOptionError, MessagingError } from '../errors.js';
import { integer, plainObject } from '../validate.js';
import { createRedisClient } from './load-ioredis.js';
import { RedisStreamSubscription } from './redis-subscription.js';
import { APPEND_SCRIPT_SOURCE, entryBody, entryEnvelope, entryFields } from './stream-entry.js';

/** Entries per script call: Redis runs a script to its end, so a chunk must stay short (about a millisecond). */
const APPEND_CHUNK = 500;

export interface RedisAdapterOptions {
  /**
   * An ioredis client to use; it is never closed by the adapter. Each subscription reads on a `duplicate()` of it.
   * @default none: one is created from `connection`
   */
  client?: Redis;
  /** Connection URL or options of a client the adapter creates (and closes). @default process.env.REDIS_URL */
  connection?: string | RedisOptions;
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
}

const capabilities: AdapterCapabilities = {
  orderingPerKey: false,
  persistence: true,
  consumerGroups: true,
  replay: true,
};

/**
 * Redis Streams transport: one stream per topic, consumer groups, acknowledgements, reclaim of
 * entries left pending by dead consumers, approximate `MAXLEN` trimming. Per-key order holds
 * within one subscription; the consumers of a group share entries without regard to keys.
 */
export class RedisStreamsAdapter implements MessageAdapter {
  readonly name: string = 'redis';
  readonly capabilities: AdapterCapabilities = capabilities;
  readonly client: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly maxLen: number;
  private readonly blockMs: number;
  private readonly batchSize: number;
  private readonly claimIdleMs: number;
  private readonly open = new Set<RedisStreamSubscription>();
  private closing: Promise<void> | undefined;

  /** Uses `options.client`; see {@link createRedisAdapter} to connect from a URL. */
  constructor(options: RedisAdapterOptions & { client: Redis }, owned = false) {
    plainObject('options', options);
    const client = options.client as Partial<Redis> | undefined;
    if (typeof client?.duplicate !== 'function' || typeof client.xadd !== 'function') {
      throw new InvalidOptionError('client', options.client, 'an ioredis client');
    }
    this.client = options.client;
    this.owned = owned;
    const prefix: unknown = options.prefix ?? '';
    this.prefix = typeof prefix === 'string' ? prefix : invalid('prefix', prefix, 'a string');
    this.maxLen = integer('maxLen', options.maxLen ?? 100_000, 0);
    this.blockMs = integer('blockMs', options.blockMs ?? 2000);
    this.batchSize = integer('batchSize', options.batchSize ?? 100);
    this.claimIdleMs = integer('claimIdleMs', options.claimIdleMs ?? 30_000);
  }

  /** Stream key of a topic. */
  streamKey(topic: string): string {
    return `${this.prefix}${topic}`;
  }

  async publish(messages: readonly WireMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    const trim: (string | number)[] = this.maxLen > 0 ? ['MAXLEN', '~', this.maxLen] : [];
    if (messages.length === 1) {
      const message = messages[0] as WireMessage;
      await this.client.xadd(this.streamKey(message.topic), ...trim, '*', ...entryFields(message));
      return;
    }
    // One script call per stream and chunk instead of one XADD per message: the per-command cost
    // of the client, not Redis, bounds a pipeline of XADDs. Every call goes out at once, so Redis
    // runs one chunk while the client writes the next; Redis runs the commands of a connection in
    // the order sent, so entries land in publish order. EVAL, not EVALSHA: a script missing from
    // Redis's cache (SCRIPT FLUSH, a restart) cannot fail one chunk while a later one lands.
    // A call's arguments in one array, which the client takes as it is: the stream key, the
    // MAXLEN, then an envelope and a body per entry.
    const byStream = new Map<string, (string | Buffer)[][]>();
    const maxLen = String(this.maxLen);
    for (const message of messages) {
      const key = this.streamKey(message.topic);
      let chunks = byStream.get(key);
      if (chunks === undefined) byStream.set(key, (chunks = []));
      let chunk = chunks[chunks.length - 1];
      if (chunk === undefined || chunk.length >= 2 + 2 * APPEND_CHUNK) chunks.push((chunk = [key, maxLen]));
      chunk.push(entryEnvelope(message), entryBody(message));
    }
    const calls: Promise<unknown>[] = [];
    for (const chunks of byStream.values())
      for (const args of chunks) calls.push(this.client.eval(APPEND_SCRIPT_SOURCE, 1, args));
    await Promise.all(calls);
  }

  async subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    this.assertOpen();
    const streamKey = this.streamKey(spec.topic);
    await this.ensureGroup(streamKey, spec.group, spec.startFrom);
    // BLOCK holds a connection: each subscription gets its own, with no command timeout shorter than the block.
    const blocking = this.client.duplicate({ commandTimeout: this.blockMs + 10_000, enableOfflineQueue: true });
    blocking.on('error', () => undefined);
    const subscription = new RedisStreamSubscription(
      this.client,
      blocking,
      spec,
      { streamKey, blockMs: this.blockMs, batchSize: this.batchSize, claimIdleMs: this.claimIdleMs },
      spec.topic,
      (closed) => this.open.delete(closed),
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
    // A client still connecting gets its PING answered once connected (the health deadline bounds the wait).
    if (['end', 'close', 'reconnecting'].includes(this.client.status))
      throw new MessagingError('ADAPTER_UNAVAILABLE', `Redis connection is ${this.client.status}`, {
        isRetryable: true,
      });
    await this.client.ping();
  }

  /** Disconnects the subscriptions' connections and quits the client if the adapter created it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const subscription of this.open) subscription.abort();
      this.open.clear();
      if (this.owned) {
        await this.client.quit().catch(() => {
          this.client.disconnect();
        });
      }
    })();
    return this.closing;
  }

  private async ensureGroup(streamKey: string, group: string, startFrom: 'latest' | 'earliest'): Promise<void> {
    try {
      await this.client.call('XGROUP', 'CREATE', streamKey, group, startFrom === 'earliest' ? '0' : '$', 'MKSTREAM');
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

/**
 * A Redis Streams adapter on `options.client`, or on a client it creates from `options.connection`
 * (default `REDIS_URL`), loading `ioredis` only then.
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
  const client = await createRedisClient(connection, 'The Redis messaging adapter');
  try {
    return new RedisStreamsAdapter({ ...options, client }, true);
  } catch (error) {
    client.disconnect();
    throw error;
  }
}
