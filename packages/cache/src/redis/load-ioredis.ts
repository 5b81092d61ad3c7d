import type { Redis, RedisOptions } from 'ioredis';
import { CacheError } from '../errors.js';

/** Loads the optional `ioredis` peer only when a client must be created. */
export async function createRedisClient(
  connection: string | RedisOptions,
  defaults: RedisOptions,
  owner: string,
): Promise<Redis> {
  let mod: typeof import('ioredis');
  try {
    mod = await import('ioredis');
  } catch (error) {
    throw new CacheError(
      'MISSING_PEER',
      `${owner} needs the optional peer dependency "ioredis" to create a client: install it with \`npm install ioredis\``,
      { cause: error },
    );
  }
  const client =
    typeof connection === 'string'
      ? new mod.Redis(connection, defaults)
      : new mod.Redis({ ...defaults, ...connection });
  // Failures surface through the cache's `error` event; this keeps ioredis from printing each one.
  client.on('error', () => undefined);
  return client;
}

/**
 * Options of a client the cache creates. Commands are only sent on a ready connection (the
 * store checks), so nothing waits in an offline queue; a slow command times out; reconnection
 * never gives up, at most every 2 s, so that the cache recovers by itself.
 */
export function ownedClientDefaults(commandTimeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1_000),
    retryStrategy: (times: number) => Math.min(times * 100, 2_000),
  };
}
