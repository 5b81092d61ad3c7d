import { redisUrl } from '@infra/test-utils';
import { Redis } from 'ioredis';

/**
 * A connected Redis client for a test's own setup and assertions, failing fast: a command gives up
 * after one retry and is not queued while the connection is down, so a test fails with the error
 * instead of hanging. Connection errors go to its `error` listener (the failing command rejects with
 * them), never to ioredis' "unhandled error event" output. `disconnect()` it when done.
 */
export async function connectTestRedis(): Promise<Redis> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/** Deletes the keys under `prefix` (SCAN, then DEL), as a test cleans up after itself; how many. */
export async function deleteTestKeys(prefix: string): Promise<number> {
  const redis = await connectTestRedis();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
