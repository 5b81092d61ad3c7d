import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { evalScript, type LuaScript } from '@infra/core/redis';
import { InvalidOptionError, OpenAIClientError } from '../errors.js';
import type { BudgetDecision, TokenBudget, TokenBudgetStore } from '../rate-limit/types.js';
import { ACQUIRE, ADJUST } from './script.js';

export interface RedisTokenBudgetStoreOptions {
  /** An existing ioredis client (or cluster). `close()` leaves it open: it is yours. */
  client?: Redis | Cluster;
  /** Connection URL or ioredis options, when the store should create (and own) its client. */
  connection?: string | RedisOptions;
  /** Prefix of every key the store writes. @default 'infra:openai:budget:' */
  prefix?: string;
}

/**
 * Request and token budgets in Redis, shared by every instance that uses the same prefix and
 * budget key. Each decision or correction is one EVALSHA of an atomic Lua script.
 */
export class RedisTokenBudgetStore implements TokenBudgetStore {
  readonly prefix: string;
  private client: Redis | Cluster | undefined;
  private pending: Promise<Redis | Cluster> | undefined;
  private readonly owned: boolean;
  private readonly connection: string | RedisOptions | undefined;
  private closed = false;

  constructor(options: RedisTokenBudgetStoreOptions) {
    const input = options as RedisTokenBudgetStoreOptions | undefined;
    if (!input || typeof input !== 'object' || (!input.client && input.connection === undefined)) {
      throw new InvalidOptionError('client', input?.client, 'an ioredis client, or a `connection` URL/options');
    }
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix.length === 0)) {
      throw new InvalidOptionError('prefix', options.prefix, 'a non-empty string');
    }
    this.client = options.client;
    this.owned = !options.client;
    this.connection = options.connection;
    this.prefix = options.prefix ?? 'infra:openai:budget:';
  }

  async acquire(key: string, budget: TokenBudget, tokens: number): Promise<BudgetDecision> {
    const reply = (await this.run(ACQUIRE, key, budget, tokens)) as [number, number, number];
    const [allowed, retryAfterMs, scope] = reply;
    return {
      allowed: allowed === 1,
      retryAfterMs,
      scope: scope === 1 ? 'requests' : scope === 2 ? 'tokens' : undefined,
    };
  }

  async adjust(key: string, budget: TokenBudget, tokenDelta: number): Promise<void> {
    await this.run(ADJUST, key, budget, tokenDelta);
  }

  /** Closes the client if this store created it; idempotent. */
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

  private async run(script: LuaScript, key: string, budget: TokenBudget, value: number): Promise<unknown> {
    const client = this.client ?? (await this.connect());
    const args = [budget.windowMs, budget.requests, budget.tokens, value];
    return evalScript(client, script, [this.prefix + key], args);
  }

  private connect(): Promise<Redis | Cluster> {
    if (this.closed) {
      return Promise.reject(new OpenAIClientError('STORE_UNAVAILABLE', 'RedisTokenBudgetStore is closed'));
    }
    this.pending ??= createRedisClient(this.connection ?? {}).then((client) => {
      this.client = client;
      return client;
    });
    return this.pending;
  }
}

async function createRedisClient(options: RedisOptions | string): Promise<Redis> {
  let mod: typeof import('ioredis');
  try {
    mod = await import('ioredis');
  } catch (error) {
    throw new OpenAIClientError(
      'MISSING_PEER',
      'RedisTokenBudgetStore needs the optional peer dependency "ioredis" to create a client: install it with `npm install ioredis`',
      { cause: error },
    );
  }
  return typeof options === 'string' ? new mod.Redis(options) : new mod.Redis(options);
}
