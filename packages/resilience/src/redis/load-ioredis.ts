import { ResilienceError } from '../errors.js';
import type { Redis, RedisOptions } from 'ioredis';

/** Creates an ioredis client, loading the optional peer only when asked to. */
export async function createRedisClient(options: RedisOptions | string, owner: string): Promise<Redis> {
  let mod: typeof import('ioredis');
  try {
    mod = await import('ioredis');
  } catch (error) {
    throw new ResilienceError(
      'MISSING_PEER',
      `${owner} needs the optional peer dependency "ioredis" to create a client: install it with \`npm install ioredis\``,
      { cause: error },
    );
  }
  return typeof options === 'string' ? new mod.Redis(options) : new mod.Redis(options);
}
