import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { InvalidOptionError, ResilienceError } from '../errors.js';
import type { RateLimitDecision, RateLimitRule, RateLimiterStore } from '../rate-limit/types.js';
import { createRedisClient } from './load-ioredis.js';
import { evalScript } from './lua-script.js';
import { RATE_LIMIT } from './script.js';

export interface RedisRateLimiterStoreOptions {
  /** An existing ioredis client (or cluster). It is not closed by `close()`: it is yours. */
  client?: Redis | Cluster;
  /** Connection URL or ioredis options, when the store should create (and own) its client. */
  connection?: string | RedisOptions;
  /** Prefix of every key the store writes. @default 'infra:rl:' */
  prefix?: string;
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
  private closed = false;

  constructor(options: RedisRateLimiterStoreOptions) {
    if (!options.client && options.connection === undefined) {
      throw new InvalidOptionError('client', options.client, 'an ioredis client, or a `connection` URL/options');
    }
    this.client = options.client;
    this.owned = !options.client;
    this.connection = options.connection;
    this.prefix = options.prefix ?? 'infra:rl:';
  }

  async consume(key: string, rule: RateLimitRule, cost: number): Promise<RateLimitDecision> {
    const client = this.client ?? (await this.connect());
    const fullKey = this.prefix + key;
    const args = [rule.algorithm, rule.limit, rule.windowMs, cost];
    const reply = await evalScript(client, RATE_LIMIT, [fullKey], args);
    const [allowed, remaining, retryAfterMs, resetMs] = reply as [number, number, number, number];
    return { allowed: allowed === 1, limit: rule.limit, remaining, retryAfterMs, resetMs };
  }

  async reset(key: string): Promise<void> {
    const client = this.client ?? (await this.connect());
    await client.del(this.prefix + key);
  }

  /** Closes the client if this store created it. */
  async close(): Promise<void> {
    const client = this.client ?? (await this.pending?.catch(() => undefined));
    this.closed = true;
    this.client = undefined;
    this.pending = undefined;
    if (this.owned && client) {
      await client.quit().catch(() => {
        client.disconnect();
      });
    }
  }

  private connect(): Promise<Redis | Cluster> {
    if (this.closed) {
      return Promise.reject(new ResilienceError('STORE_UNAVAILABLE', 'RedisRateLimiterStore is closed'));
    }
    this.pending ??= createRedisClient(this.connection ?? {}, 'RedisRateLimiterStore').then((client) => {
      this.client = client;
      return client;
    });
    return this.pending;
  }
}
