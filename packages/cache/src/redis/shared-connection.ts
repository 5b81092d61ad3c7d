import { createRedisClient, ownedClientDefaults } from './load-ioredis.js';
import type { RedisClient } from './redis-store.js';
import { connectionOf, type RedisConnectionOptions } from './redis-options.js';
import { check } from '../errors.js';

/** One Redis connection for several caches, created on first use; closed only if created here. */
export class SharedRedisConnection {
  /** The injected client, if any. */
  readonly client: RedisClient | undefined;
  /** Set when the connection is created here: caches call it instead of creating their own. */
  readonly provider: (() => Promise<RedisClient>) | undefined;
  private pending: Promise<RedisClient> | undefined;
  private closed = false;

  constructor(options: RedisConnectionOptions & { commandTimeoutMs?: number }) {
    const connection = connectionOf(options);
    const commandTimeoutMs = check.nonNegative('commandTimeoutMs', options.commandTimeoutMs ?? 1_000);
    this.client = options.client;
    this.provider =
      connection === undefined
        ? undefined
        : () => (this.pending ??= createRedisClient(connection, ownedClientDefaults(commandTimeoutMs), 'redisDrivers'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = await this.pending?.catch(() => undefined);
    if (client) {
      await client.quit().catch(() => {
        client.disconnect();
      });
    }
  }
}
