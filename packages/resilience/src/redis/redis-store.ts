import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { InvalidOptionError, ResilienceError, check } from '../errors.js';
import { InFlight } from '../in-flight.js';
import type { RateLimitDecision, RateLimitRule, RateLimiterStore } from '../rate-limit/types.js';
import {
  closeClient,
  createRedisClient,
  duplicateClient,
  evalScript,
  failFastOptions,
  whenReady,
} from '@infra/core/redis';
import { RATE_LIMIT } from './script.js';

export interface RedisRateLimiterStoreOptions {
  /** An existing ioredis client or cluster. It is not closed by `close()`: it is yours. */
  client?: Redis | Cluster;
  /**
   * Runs the store on a connection of its own, made from `client` with the same options (nodes,
   * TLS, credentials; a cluster's start-up nodes and `redisOptions`) plus the fail-fast settings,
   * instead of on `client` itself: its commands never wait in `client`'s offline queue while Redis
   * is away. The store closes that connection on `close()`.
   * @default false
   */
  ownConnection?: boolean;
  /** Connection URL or ioredis options, when the store should create (and own) its client. */
  connection?: string | RedisOptions | undefined;
  /** Prefix of every key the store writes. @default 'infra:rl:' */
  prefix?: string;
  /**
   * Longest wait for a connection of the store's own before a decision fails with
   * `STORE_UNAVAILABLE` (ms).
   * @default 250
   */
  connectTimeoutMs?: number;
  /** Longest wait for a command's reply on a connection of the store's own (ms). @default 250 */
  commandTimeoutMs?: number;
  /** Connection errors of a client the store created (its commands' errors reach the caller). @default ignored */
  onError?: (error: Error) => void;
}

/** Options of {@link RedisRateLimiterStore.close}. */
export interface RedisRateLimiterStoreCloseOptions {
  /** Longest wait for decisions in flight before the connection is closed (ms). @default 10_000 */
  timeoutMs?: number;
}

/**
 * Rate-limit state in Redis, shared by every instance. Each decision is one EVALSHA of an atomic
 * Lua script (falling back to EVAL once if the server has not cached the script yet). Works on a
 * single node or a Cluster: each decision touches one key.
 */
export class RedisRateLimiterStore implements RateLimiterStore {
  readonly prefix: string;
  private client: Redis | Cluster | undefined;
  private pending: Promise<Redis | Cluster> | undefined;
  private readonly owned: boolean;
  private readonly connection: string | RedisOptions | undefined;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly onError: (error: Error) => void;
  private readonly inFlight = new InFlight();
  private closing: Promise<void> | undefined;

  constructor(options: RedisRateLimiterStoreOptions) {
    check.plainObject('options', options);
    if (!options.client && options.connection === undefined) {
      throw new InvalidOptionError('client', options.client, 'an ioredis client, or a `connection` URL/options');
    }
    this.prefix = options.prefix === undefined ? 'infra:rl:' : check.nonEmptyString('prefix', options.prefix);
    this.connectTimeoutMs = check.positive('connectTimeoutMs', options.connectTimeoutMs ?? 250);
    this.commandTimeoutMs = check.positive('commandTimeoutMs', options.commandTimeoutMs ?? 250);
    this.onError = check.optionalFn<(error: Error) => void>('onError', options.onError) ?? (() => undefined);
    const ownConnection = check.boolean('ownConnection', options.ownConnection ?? false);
    this.connection = options.connection;
    if (options.client && ownConnection) {
      const own = duplicateClient(options.client, {
        ...failFastOptions({ connectTimeoutMs: this.connectTimeoutMs, commandTimeoutMs: this.commandTimeoutMs }),
        lazyConnect: true,
      });
      own.on('error', (error: Error) => {
        this.onError(error);
      });
      this.client = own;
      this.owned = true;
    } else {
      this.client = options.client;
      this.owned = !options.client;
    }
  }

  consume(key: string, rule: RateLimitRule, cost: number): Promise<RateLimitDecision> {
    return this.inFlight.track(async () => {
      const client = await this.ready();
      const args = [rule.algorithm, rule.limit, rule.windowMs, cost];
      const reply = await evalScript(client, RATE_LIMIT, [this.prefix + key], args);
      const [allowed, remaining, retryAfterMs, resetMs] = reply as [number, number, number, number];
      return { allowed: allowed === 1, limit: rule.limit, remaining, retryAfterMs, resetMs };
    });
  }

  async reset(key: string): Promise<void> {
    const client = await this.ready();
    await client.del(this.prefix + key);
  }

  /**
   * Refuses new decisions, waits up to `timeoutMs` for those in flight, then closes the client if
   * this store created it. Idempotent.
   */
  close(options: RedisRateLimiterStoreCloseOptions = {}): Promise<void> {
    const timeoutMs = check.nonNegative('timeoutMs', options.timeoutMs ?? 10_000);
    this.closing ??= (async () => {
      await this.inFlight.drained(timeoutMs);
      const client = this.client ?? (await this.pending?.catch(() => undefined));
      this.client = undefined;
      this.pending = undefined;
      if (this.owned && client) await closeClient(client);
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The client, connected: a connection of the store's own gets `connectTimeoutMs` to connect. */
  private async ready(): Promise<Redis | Cluster> {
    if (this.closing) throw new ResilienceError('STORE_UNAVAILABLE', 'RedisRateLimiterStore is closed');
    const client = this.client ?? (await this.create());
    if (this.owned) {
      try {
        await whenReady(client, this.connectTimeoutMs, 'RedisRateLimiterStore');
      } catch (cause) {
        throw new ResilienceError('STORE_UNAVAILABLE', 'RedisRateLimiterStore: Redis is not reachable', {
          cause,
          isRetryable: true,
        });
      }
    }
    return client;
  }

  private create(): Promise<Redis | Cluster> {
    this.pending ??= createRedisClient(this.connection ?? {}, {
      owner: 'RedisRateLimiterStore',
      connectTimeoutMs: this.connectTimeoutMs,
      commandTimeoutMs: this.commandTimeoutMs,
      onError: (error) => {
        this.onError(error);
      },
      missingPeer: (message, cause) => new ResilienceError('MISSING_PEER', message, { cause }),
    }).then((client) => {
      this.client = client;
      return client;
    });
    return this.pending;
  }
}
