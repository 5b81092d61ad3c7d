import { closeClient, createRedisClient, type RedisClient } from '@infra/core/redis';
import { CacheError, check } from '../errors.js';
import { connectionOf, type RedisConnectionOptions } from './redis-options.js';

/**
 * One Redis connection for several caches, created on first use and closed by `close()`; an
 * injected client is used as is and never closed. The created client fails fast, and its
 * connection errors reach the `error` event of every cache that uses it.
 */
export class SharedRedisConnection {
  /** The injected client, if any. */
  readonly client: RedisClient | undefined;
  /** Set when the connection is created here: caches call it instead of creating their own. */
  readonly provider: ((onError: (error: Error) => void) => Promise<RedisClient>) | undefined;
  private pending: Promise<RedisClient> | undefined;
  private readonly listeners = new Set<(error: Error) => void>();
  private closed = false;

  constructor(options: RedisConnectionOptions & { commandTimeoutMs?: number; connectTimeoutMs?: number }) {
    const connection = connectionOf(options);
    const commandTimeoutMs = check.positive('commandTimeoutMs', options.commandTimeoutMs ?? 1_000);
    const connectTimeoutMs = check.positive('connectTimeoutMs', options.connectTimeoutMs ?? 1_000);
    this.client = options.client;
    this.provider =
      connection === undefined
        ? undefined
        : (onError) => {
            this.listeners.add(onError);
            this.pending ??= createRedisClient(connection, {
              owner: 'redisDrivers',
              commandTimeoutMs,
              connectTimeoutMs,
              onError: (error) => {
                for (const listener of this.listeners) listener(error);
              },
              missingPeer: (message, cause) => new CacheError('MISSING_PEER', message, { cause }),
            });
            return this.pending;
          };
  }

  /** Closes the connection if it was created here. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = await this.pending?.catch(() => undefined);
    if (client) await closeClient(client);
    this.listeners.clear();
  }
}
