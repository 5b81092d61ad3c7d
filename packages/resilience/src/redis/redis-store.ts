import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { InvalidOptionError, ResilienceError, check } from '../errors.js';
import type { RateLimitDecision, RateLimitRule, RateLimiterStore } from '../rate-limit/types.js';
import { closeClient, createRedisClient, evalScript, whenReady } from '@infra/core/redis';
import { RATE_LIMIT } from './script.js';

export interface RedisRateLimiterStoreOptions {
  /** An existing ioredis client (or cluster). It is not closed by `close()`: it is yours. */
  client?: Redis | Cluster;
  /** Connection URL or ioredis options, when the store should create (and own) its client. */
  connection?: string | RedisOptions;
  /** Prefix of every key the store writes. @default 'infra:rl:' */
  prefix?: string;
  /** Longest wait for a connection before a decision fails with `STORE_UNAVAILABLE` (ms). @default 250 */
  connectTimeoutMs?: number;
  /** Connection errors of a client the store created (its commands' errors reach the caller). @default ignored */
  onError?: (error: Error) => void;
}

/**
 * Rate-limit state in Redis, shared by every instance. Each decision is one EVALSHA of an atomic
 * Lua script (falling back to EVAL once if the server has not cached the script yet).
 */
export class RedisRateLimiterStore implements RateLimiterStore {
  readonly prefix: string;
  private client: Redis | Cluster | undefined;
  private pending: Promise<Redis | Cluster> | undefined;
  private readonly owned: boolean;
  private readonly connection: string | RedisOptions | undefined;
  private readonly connectTimeoutMs: number;
  private readonly onError: (error: Error) => void;
  private closed = false;

  constructor(options: RedisRateLimiterStoreOptions) {
    if (!options.client && options.connection === undefined) {
      throw new InvalidOptionError('client', options.client, 'an ioredis client, or a `connection` URL/options');
    }
    this.client = options.client;
    this.owned = !options.client;
    this.connection = options.connection;
    this.prefix = options.prefix ?? 'infra:rl:';
    this.connectTimeoutMs = check.nonNegative('connectTimeoutMs', options.connectTimeoutMs ?? 250);
    this.onError = check.optionalFn<(error: Error) => void>('onError', options.onError) ?? (() => undefined);
  }

  async consume(key: string, rule: RateLimitRule, cost: number): Promise<RateLimitDecision> {
    const client = await this.ready();
    const args = [rule.algorithm, rule.limit, rule.windowMs, cost];
    const reply = await evalScript(client, RATE_LIMIT, [this.prefix + key], args);
    const [allowed, remaining, retryAfterMs, resetMs] = reply as [number, number, number, number];
    return { allowed: allowed === 1, limit: rule.limit, remaining, retryAfterMs, resetMs };
  }

  async reset(key: string): Promise<void> {
    const client = await this.ready();
    await client.del(this.prefix + key);
  }

  /** Closes the client if this store created it. Idempotent. */
  async close(): Promise<void> {
    const client = this.client ?? (await this.pending?.catch(() => undefined));
    this.closed = true;
    this.client = undefined;
    this.pending = undefined;
    if (this.owned && client) await closeClient(client);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The client, connected: a created client gets `connectTimeoutMs` to connect. */
  private async ready(): Promise<Redis | Cluster> {
    if (this.closed) throw new ResilienceError('STORE_UNAVAILABLE', 'RedisRateLimiterStore is closed');
    const client = this.client ?? (await this.create());
    if (this.owned) await whenReady(client, this.connectTimeoutMs, 'RedisRateLimiterStore');
    return client;
  }

  private create(): Promise<Redis | Cluster> {
    this.pending ??= createRedisClient(this.connection ?? {}, {
      owner: 'RedisRateLimiterStore',
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
