import { randomBytes } from 'node:crypto';
import { CircuitBreaker, type CircuitBreakerOptions } from '@infra/resilience';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { CacheError, CacheUnavailableError, isCacheError } from '../errors.js';
import type { CacheStore, StoreLock, StoreRecord, StoreWrite } from '../store.js';
import { createRedisClient, ownedClientDefaults } from './load-ioredis.js';
import { evalScript } from '@infra/core/redis';
import { DELETE_TAGGED, RELEASE_LOCK, SET_TAGGED, type Script } from './scripts.js';
import { decodeRecord, encodeRecord } from './record.js';

export type RedisClient = Redis | Cluster;

export interface RedisStoreOptions {
  cacheName: string;
  client: RedisClient | undefined;
  connection: string | RedisOptions | undefined;
  /** A connection shared with other caches: neither owned nor closed by this store. */
  provider?: (() => Promise<RedisClient>) | undefined;
  /** Prefix of every key of this store, ending before the data/tag/lock marker. */
  base: string;
  breaker: CircuitBreaker | CircuitBreakerOptions | undefined;
  commandTimeoutMs: number;
}

const SCAN_COUNT = 500;

/** Wraps a failure in CACHE_UNAVAILABLE unless it is a Redis reply error (a bug, not an outage). */
function unavailable(cache: string, error: unknown): unknown {
  if (isCacheError(error)) return error;
  if (error instanceof Error && error.name === 'ReplyError') return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new CacheUnavailableError(cache, reason, error);
}

/**
 * Records in Redis under `<base>v:<key>`, tag sets under `<base>t:<tag>`, locks under
 * `<base>l:<key>`. Every command goes through a circuit breaker, and a command is only sent on a
 * ready connection: while Redis is down each call fails in microseconds instead of queueing.
 */
export class RedisStore implements CacheStore {
  readonly serializes = true;
  readonly lock: StoreLock;
  readonly breaker: CircuitBreaker;
  private readonly options: RedisStoreOptions;
  private client: RedisClient | undefined;
  private pending: Promise<RedisClient> | undefined;
  private readonly owned: boolean;
  private everReady = false;
  private firstReady: Promise<void> | undefined;
  private closed = false;

  constructor(options: RedisStoreOptions) {
    this.options = options;
    this.client = options.client;
    this.owned = options.client === undefined && options.provider === undefined;
    const injectedTimeout =
      options.provider !== undefined || (options.client !== undefined && 'commandTimeout' in options.client.options);
    this.breaker =
      options.breaker instanceof CircuitBreaker
        ? options.breaker
        : new CircuitBreaker(`cache:${options.cacheName}`, {
            consecutiveFailures: 3,
            minimumThroughput: 20,
            resetTimeout: 2_000,
            // An owned client times commands out itself (commandTimeout); an injected one may not.
            timeout: this.owned || injectedTimeout ? 0 : options.commandTimeoutMs,
            isFailure: (error) => !(error instanceof Error && error.name === 'ReplyError'),
            ...options.breaker,
          });
    this.lock = {
      acquire: (key, ttlMs) => this.acquireLock(key, ttlMs),
      release: (key, token) => this.releaseLock(key, token),
    };
  }

  /** Connects (creating the client if this store owns it) and waits until Redis answers. */
  async start(): Promise<void> {
    await this.command((client) => client.ping());
  }

  async get(key: string): Promise<StoreRecord | undefined> {
    const raw = await this.command((client) => client.get(this.dataKey(key)));
    return raw === null ? undefined : decodeRecord(raw);
  }

  async getMany(keys: readonly string[]): Promise<(StoreRecord | undefined)[]> {
    const raws = await this.command((client) => client.mget(keys.map((key) => this.dataKey(key))));
    return raws.map((raw) => (raw === null ? undefined : decodeRecord(raw)));
  }

  async set(key: string, write: StoreWrite): Promise<void> {
    await this.command((client) => this.writeOne(client, key, write));
  }

  async setMany(writes: readonly (readonly [string, StoreWrite])[]): Promise<void> {
    await this.command(async (client) => {
      const pipeline = client.pipeline();
      for (const [key, write] of writes) {
        const record = encodeRecord(write);
        const ms = this.pxMs(write);
        if (write.tags && write.tags.length > 0) {
          const keys = [this.dataKey(key), ...write.tags.map((tag) => this.tagKey(tag))];
          pipeline.eval(SET_TAGGED.source, keys.length, ...keys, record, ms);
        } else if (ms > 0) {
          pipeline.set(this.dataKey(key), record, 'PX', ms);
        } else {
          pipeline.set(this.dataKey(key), record);
        }
      }
      const results = (await pipeline.exec()) ?? [];
      for (const [error] of results) if (error) throw error;
    });
  }

  async delete(key: string): Promise<boolean> {
    return (await this.command((client) => client.del(this.dataKey(key)))) > 0;
  }

  /** SCANs this store's prefix on every master and UNLINKs in batches: never KEYS or FLUSHDB. */
  async clear(): Promise<void> {
    await this.command(async (client) => {
      const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
      const pattern = `${escapeGlob(this.options.base)}*`;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
          cursor = next;
          if (keys.length > 0) await node.unlink(...keys);
        } while (cursor !== '0');
      }
    });
  }

  async deleteByTags(tags: readonly string[]): Promise<number> {
    return this.command(async (client) => {
      let removed = 0;
      for (const tag of tags) removed += Number(await this.runScript(client, DELETE_TAGGED, [this.tagKey(tag)], [tag]));
      return removed;
    });
  }

  /** Closes the client only if this store created it; an injected client is the caller's. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client ?? (await this.pending?.catch(() => undefined));
    this.client = undefined;
    this.pending = undefined;
    if (this.owned && client) {
      await client.quit().catch(() => {
        client.disconnect();
      });
    }
  }

  /** The client, created on first use when this store owns it. */
  async connection(): Promise<RedisClient> {
    if (this.client) return this.client;
    if (this.closed) throw new CacheError('CACHE_CLOSED', `Cache "${this.options.cacheName}" is closed`);
    if (this.pending) return this.pending;
    const created = this.options.provider
      ? this.options.provider()
      : createRedisClient(
          this.options.connection ?? {},
          ownedClientDefaults(this.options.commandTimeoutMs),
          'RedisCacheService',
        );
    this.pending = created.then((client) => {
      if (this.closed) {
        if (this.owned) client.disconnect();
        throw new CacheError('CACHE_CLOSED', `Cache "${this.options.cacheName}" is closed`);
      }
      this.client = client;
      return client;
    });
    return this.pending;
  }

  dataKey(key: string): string {
    return `${this.options.base}v:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.options.base}t:${tag}`;
  }

  private pxMs(write: StoreWrite): number {
    return Number.isFinite(write.expiresAt) ? Math.max(1, Math.ceil(write.expiresAt - Date.now())) : 0;
  }

  private async writeOne(client: RedisClient, key: string, write: StoreWrite): Promise<void> {
    const record = encodeRecord(write);
    const ms = this.pxMs(write);
    if (write.tags && write.tags.length > 0) {
      const keys = [this.dataKey(key), ...write.tags.map((tag) => this.tagKey(tag))];
      await this.runScript(client, SET_TAGGED, keys, [record, ms]);
    } else if (ms > 0) {
      await client.set(this.dataKey(key), record, 'PX', ms);
    } else {
      await client.set(this.dataKey(key), record);
    }
  }

  private async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomBytes(16).toString('hex');
    const reply = await this.command((client) => client.set(`${this.options.base}l:${key}`, token, 'PX', ttlMs, 'NX'));
    return reply === 'OK' ? token : undefined;
  }

  private async releaseLock(key: string, token: string): Promise<void> {
    await this.command((client) => this.runScript(client, RELEASE_LOCK, [`${this.options.base}l:${key}`], [token]));
  }

  private runScript(client: RedisClient, script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    return evalScript(client, script, keys, args);
  }

  /** Runs `fn` under the breaker on a usable connection; failures become CACHE_UNAVAILABLE. */
  private async command<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(async () => {
        const client = this.client ?? (await this.connection());
        await this.usable(client);
        return fn(client);
      });
    } catch (error) {
      throw unavailable(this.options.cacheName, error);
    }
  }

  /**
   * Resolves when commands may be sent. Before the first connection is up it waits for it
   * (bounded); once the client has been ready, any other state fails at once: the connection
   * dropped and ioredis is reconnecting in the background.
   */
  private usable(client: RedisClient): Promise<void> | undefined {
    const status = client.status;
    if (status === 'ready') {
      this.everReady = true;
      return undefined;
    }
    const connecting = status === 'wait' || status === 'connecting' || status === 'connect';
    if (this.everReady || !connecting) {
      return Promise.reject(new CacheUnavailableError(this.options.cacheName, `Redis connection is ${status}`));
    }
    if (status === 'wait') client.connect().catch(() => undefined);
    // One wait shared by every caller: a burst of first calls adds one set of listeners, not N.
    this.firstReady ??= waitReady(client, this.options.commandTimeoutMs, this.options.cacheName).then(
      () => {
        this.everReady = true;
        this.firstReady = undefined;
      },
      (error: unknown) => {
        this.firstReady = undefined;
        throw error;
      },
    );
    return this.firstReady;
  }
}

function waitReady(client: RedisClient, timeoutMs: number, cache: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('close', onClose);
      client.off('end', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => {
      done();
    };
    const onClose = (): void => {
      done(new CacheUnavailableError(cache, 'Redis connection closed while connecting'));
    };
    const timer = setTimeout(() => {
      done(new CacheUnavailableError(cache, `Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('ready', onReady);
    client.once('close', onClose);
    client.once('end', onClose);
  });
}

function isCluster(client: RedisClient): client is Cluster {
  return (
    'nodes' in client && typeof client.nodes === 'function' && (client as { isCluster?: boolean }).isCluster === true
  );
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
