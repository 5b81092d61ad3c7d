import type { Redis, RedisOptions } from 'ioredis';
import { missingPeer } from '../errors.js';

/** Loads the optional `ioredis` peer only when a client must be created. */
export async function createRedisClient(connection: string | RedisOptions, owner: string): Promise<Redis> {
  let mod: typeof import('ioredis');
  try {
    mod = await import('ioredis');
  } catch (error) {
    throw missingPeer('ioredis', owner, error);
  }
  const client =
    typeof connection === 'string'
      ? new mod.Redis(connection, { maxRetriesPerRequest: 3 })
      : new mod.Redis({ maxRetriesPerRequest: 3, ...connection });
  // Failures surface through the bus's `error` event and health check; this keeps ioredis from printing each one.
  client.on('error', () => undefined);
  return client;
}
