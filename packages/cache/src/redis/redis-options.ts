import type { RedisClient, RedisConnection } from '@infra/core/redis';
import type { CircuitBreaker, CircuitBreakerOptions } from '@infra/resilience';
import { InvalidCacheOptionError, check } from '../errors.js';
import type { CacheOptions } from '../types.js';

export interface RedisConnectionOptions {
  /** An existing ioredis client (or cluster). It is never closed by the cache: it is yours. */
  client?: RedisClient;
  /**
   * Connection URL or ioredis options, when the cache should create (and own, and close) its
   * client. ioredis is loaded on first use; the client fails fast (no offline queue, bounded
   * connect and command times) and its connection errors reach the cache's `error` event.
   * @default 'redis://127.0.0.1:6379' when neither `client` nor `connection` is given
   */
  connection?: RedisConnection | undefined;
  /**
   * Returns a client shared with other caches (see `redisDrivers`); it is not closed by the
   * cache. The cache passes the listener that reports the client's connection errors on its own
   * `error` event. Takes precedence over `connection`.
   */
  clientProvider?: ((onError: (error: Error) => void) => Promise<RedisClient>) | undefined;
}

export interface RedisCacheOptions extends CacheOptions, RedisConnectionOptions {
  /**
   * Namespace of this cache's keys; two caches with different namespaces never collide and
   * `clear()` removes only its own. Letters, digits, `_`, `-`, `.` and `:`.
   * @default the cache name
   */
  namespace?: string;
  /** Prefix put before every namespace. @default 'infra:cache:' */
  keyPrefix?: string;
  /**
   * Milliseconds a Redis command may take before it counts as failed. Applied as ioredis
   * `commandTimeout` to a client the cache creates, and by the circuit breaker to an injected
   * client that has no `commandTimeout` of its own.
   * @default 1_000
   */
  commandTimeoutMs?: number;
  /**
   * Milliseconds allowed to establish the connection of a client the cache creates, and the
   * longest the first commands wait for a connection that is still being established.
   * @default 1_000
   */
  connectTimeoutMs?: number;
  /**
   * The circuit breaker guarding Redis, or options for the one the cache creates.
   * @default { consecutiveFailures: 3, minimumThroughput: 20, resetTimeout: 2_000 }
   */
  breaker?: CircuitBreaker | CircuitBreakerOptions;
}

const NAMESPACE = /^[\w.:-]+$/;

export function namespaceOf(name: string, namespace: unknown): string {
  const value = namespace ?? name;
  if (typeof value !== 'string' || !NAMESPACE.test(value)) {
    throw new InvalidCacheOptionError('namespace', value, 'letters, digits, "_", "-", "." or ":"');
  }
  return value;
}

/** `<keyPrefix>{<namespace>}:`: braces keep a namespace on one Redis Cluster slot. */
export function baseOf(options: RedisCacheOptions, name: string): string {
  const keyPrefix = options.keyPrefix ?? 'infra:cache:';
  if (typeof keyPrefix !== 'string') throw new InvalidCacheOptionError('keyPrefix', keyPrefix, 'a string');
  return `${keyPrefix}{${namespaceOf(name, options.namespace)}}:`;
}

export function connectionOf(options: RedisConnectionOptions): RedisConnection | undefined {
  if (options.client !== undefined) {
    if (typeof options.client !== 'object' || typeof (options.client as { get?: unknown }).get !== 'function') {
      throw new InvalidCacheOptionError('client', options.client, 'an ioredis client');
    }
    return undefined;
  }
  if (options.clientProvider !== undefined) {
    check.fn('clientProvider', options.clientProvider);
    return undefined;
  }
  const connection: unknown = options.connection ?? 'redis://127.0.0.1:6379';
  if (typeof connection !== 'string' && (typeof connection !== 'object' || connection === null)) {
    throw new InvalidCacheOptionError('connection', connection, 'a redis:// URL or ioredis options');
  }
  return connection;
}

export function commandTimeoutOf(options: RedisCacheOptions): number {
  return check.positive('commandTimeoutMs', options.commandTimeoutMs ?? 1_000);
}

export function connectTimeoutOf(options: RedisCacheOptions): number {
  return check.positive('connectTimeoutMs', options.connectTimeoutMs ?? 1_000);
}
