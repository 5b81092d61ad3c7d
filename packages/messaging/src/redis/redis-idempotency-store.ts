import type { Redis } from 'ioredis';
import { InvalidOptionError } from '../errors.js';
import type { IdempotencyStore } from '../idempotency.js';
import { plainObject, withMethods } from '../validate.js';

export interface RedisIdempotencyStoreOptions {
  /** The client to use; never closed by the store. */
  client: Redis;
  /** Prefix of the keys the store writes. @default 'idempotency:' */
  prefix?: string;
}

// A claim is `p:<token>` with the lease as TTL; a handled message is `d` with the retention TTL.
const claimScript = `
local value = redis.call('GET', KEYS[1])
if not value then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if value == 'd' then return 'done' end
return 'busy'`;

const releaseScript = `
if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Dedupe records in Redis (`SET … PX` through Lua, so claim and check are one atomic step). */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly client: Redis;
  private readonly prefix: string;

  constructor(options: RedisIdempotencyStoreOptions) {
    plainObject('options', options);
    this.client = withMethods<Redis>('client', options.client, ['eval'], 'an ioredis client');
    this.prefix = options.prefix ?? 'idempotency:';
    if (typeof this.prefix !== 'string') throw new InvalidOptionError('prefix', options.prefix, 'a string');
  }

  async claim(key: string, token: string, leaseMs: number): Promise<'claimed' | 'done' | 'busy'> {
    return (await this.client.eval(claimScript, 1, this.prefix + key, token, leaseMs)) as 'claimed' | 'done' | 'busy';
  }

  async complete(key: string, _token: string, ttlMs: number): Promise<void> {
    await this.client.set(this.prefix + key, 'd', 'PX', ttlMs);
  }

  async release(key: string, token: string): Promise<void> {
    await this.client.eval(releaseScript, 1, this.prefix + key, token);
  }
}
