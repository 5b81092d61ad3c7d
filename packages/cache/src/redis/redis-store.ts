import { randomBytes } from 'node:crypto';
import {
  closeClient,
  createRedisClient,
  evalScript,
  isCluster,
  whenReady,
  type RedisClient,
  type RedisConnection,
} from '@infra/core/redis';
import { CircuitBreaker, type CircuitBreakerOptions } from '@infra/resilience';
import type { Redis } from 'ioredis';
import { CacheError, CacheUnavailableError, cacheClosed, isCacheError } from '../errors.js';
import type { CacheStore, StoreLock, StoreRecord, StoreWrite } from '../store.js';
import { baseOf, commandTimeoutOf, connectTimeoutOf, connectionOf, type RedisCacheOptions } from './redis-options.js';
import { DELETE_TAGGED, RELEASE_LOCK, SET_TAGGED, type Script } from './scripts.js';
import { decodeRecord, encodeRecord } from './record.js';

export type { RedisClient };

export interface RedisStoreOptions {
  cacheName: string;
  client: RedisClient | undefined;
  connection: RedisConnection | undefined;
  /** A connection shared with other caches: neither owned nor closed by this store. */
  provider?: ((onError: (error: Error) => void) => Promise<RedisClient>) | undefined;
  /** Prefix of every key of this store, ending before the data/tag/lock marker. */
  base: string;
  breaker: CircuitBreaker | CircuitBreakerOptions | undefined;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Connection errors of a client this store created or was provided, never thrown by anything. */
  onError: (error: Error) => void;
}

const SCAN_COUNT = 500;

/** The store of the Redis-backed cache `name`; `onError` receives its connection errors. */
export function createRedisStore(
  name: string,
  options: RedisCacheOptions,
  onError: (error: Error) => void,
): RedisStore {
  return new RedisStore({
    cacheName: name,
    client: options.client,
    connection: connectionOf(options),
    provider: options.clientProvider,
    base: baseOf(options, name),
    breaker: options.breaker,
    commandTimeoutMs: commandTimeoutOf(options),
    connectTimeoutMs: connectTimeoutOf(options),
    onError,
  });
}

/** What the `error` event reports for a connection error of a client the cache created or shares. */
export function connectionError(cache: string, error: Error): CacheUnavailableError {
  return new CacheUnavailableError(cache, `Redis connection error: ${error.message}`, error);
}

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
  readonly tier = 'redis';
  readonly lock: StoreLock;
  readonly breaker: CircuitBreaker;
  private readonly options: RedisStoreOptions;
  private client: RedisClient | undefined;
  private pending: Promise<RedisClient> | undefined;
  private readonly owned: boolean;
  private everReady = false;
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

  /**
   * Asks Redis directly (a PING, not through the breaker), answering within `commandTimeoutMs`
   * (or `connectTimeoutMs` while the first connection is being made): the truth for a health check.
   */
  async probe(): Promise<{ up: boolean; latencyMs: number | undefined; message: string | undefined }> {
    const started = performance.now();
    const down = (message: string) => ({ up: false, latencyMs: undefined, message });
    let client: RedisClient;
    try {
      client = await this.connection();
      if (!this.everReady) {
        await whenReady(client, this.options.connectTimeoutMs, `Cache "${this.options.cacheName}"`);
        this.everReady = true;
      }
    } catch (error) {
      return down(`Redis is not reachable: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (client.status !== 'ready') return down(`Redis connection is ${client.status}`);
    const timeoutMs = this.options.commandTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, timeoutMs);
      timer.unref();
    });
    try {
      const reply = await Promise.race([client.ping(), timedOut]);
      if (reply === 'timeout') return down(`Redis did not answer PING within ${timeoutMs} ms`);
      return { up: true, latencyMs: performance.now() - started, message: undefined };
    } catch (error) {
      return down(`Redis PING failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
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
    if (this.owned && client) await closeClient(client);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The client, created on first use when this store owns it. */
  async connection(): Promise<RedisClient> {
    if (this.client) return this.client;
    if (this.closed) throw cacheClosed(this.options.cacheName);
    this.pending ??= this.create().then((client) => {
      if (this.closed) {
        if (this.owned) client.disconnect();
        throw cacheClosed(this.options.cacheName);
      }
      this.client = client;
      return client;
    });
    return this.pending;
  }

  private create(): Promise<RedisClient> {
    const onError = (error: Error): void => {
      if (!this.closed) this.options.onError(error);
    };
    if (this.options.provider) return this.options.provider(onError);
    return createRedisClient(this.options.connection ?? {}, {
      owner: 'RedisCacheService',
      onError,
      connectTimeoutMs: this.options.connectTimeoutMs,
      commandTimeoutMs: this.options.commandTimeoutMs,
      missingPeer: (message, cause) => new CacheError('MISSING_PEER', message, { cause }),
    });
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
      return await this.breaker.execute(async () => fn(await this.usable()));
    } catch (error) {
      throw unavailable(this.options.cacheName, error);
    }
  }

  /**
   * The client, once commands may be sent. Before the first connection is up, callers wait for it
   * (at most `connectTimeoutMs`, one wait shared by all); once the client has been ready, any other
   * state fails at once: the connection dropped and ioredis is reconnecting in the background.
   */
  private async usable(): Promise<RedisClient> {
    const client = this.client ?? (await this.connection());
    if (client.status === 'ready') {
      this.everReady = true;
      return client;
    }
    if (this.everReady) throw new CacheUnavailableError(this.options.cacheName, `Redis connection is ${client.status}`);
    await whenReady(client, this.options.connectTimeoutMs, `Cache "${this.options.cacheName}"`);
    this.everReady = true;
    return client;
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
