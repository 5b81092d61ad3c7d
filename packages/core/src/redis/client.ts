import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { InfraError } from '../errors.js';
import { loadOptionalPeer } from '../peers.js';

/** A client the packages accept: a single node or a cluster. */
export type RedisClient = Redis | Cluster;

/** How a package creates a client of its own: a URL (`redis://…`, `rediss://…`) or ioredis options. */
export type RedisConnection = string | RedisOptions;

/** Where a created client reports, and how patient it is. */
export interface CreateRedisClientOptions {
  /** Names the component in errors (`RedisCacheStore`, …). */
  owner: string;
  /** Every `error` event of the client: routed to the package's own events, never printed by ioredis. */
  onError: (error: Error) => void;
  /** Bound on establishing a connection (ms). @default 2000 */
  connectTimeoutMs?: number;
  /** Bound on each command (ms); 0 turns it off (blocking reads bound themselves). @default 2000 */
  commandTimeoutMs?: number;
  /** Builds the package's error for a missing `ioredis`. */
  missingPeer: (message: string, cause: unknown) => Error;
}

/**
 * The options that make a client fail fast while its server is away: no offline queue (a command
 * sent while disconnected fails at once instead of waiting for a reconnect), at most one resend of
 * a command in flight when a connection drops, bounded connect and command times, and reconnects
 * with a backoff capped at 2 s. Explicit options of the caller win.
 */
export function failFastOptions(options: { connectTimeoutMs?: number; commandTimeoutMs?: number }): RedisOptions {
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 5), 2000),
  };
  const commandTimeout = options.commandTimeoutMs ?? 2000;
  if (commandTimeout > 0) failFast.commandTimeout = commandTimeout;
  return failFast;
}

/**
 * Creates a client of the package's own with {@link failFastOptions} and an `error` listener. The
 * client connects in the background; use {@link whenReady} before a command.
 */
export async function createRedisClient(
  connection: RedisConnection,
  options: CreateRedisClientOptions,
): Promise<Redis> {
  const mod = await loadOptionalPeer('ioredis', options.owner, () => import('ioredis'), options.missingPeer);
  const defaults = failFastOptions(options);
  const client =
    typeof connection === 'string'
      ? new mod.Redis(connection, defaults)
      : new mod.Redis({ ...defaults, ...connection });
  client.on('error', options.onError);
  return client;
}

/** True when `client` is an ioredis `Cluster`. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/**
 * A new connection with the options of `client` and `overrides` on top, for a subscriber or a
 * blocking reader. A Cluster's per-node options live under `redisOptions` and its `duplicate()`
 * takes start-up nodes first; both are handled here, so the overrides are never lost.
 */
export function duplicateClient(client: RedisClient, overrides: RedisOptions): RedisClient {
  if (isCluster(client)) {
    return client.duplicate(undefined, {
      redisOptions: { ...client.options.redisOptions, ...overrides },
    });
  }
  return client.duplicate(overrides);
}

/** Error of {@link whenReady}: the client did not get a usable connection in time. */
export class RedisNotReadyError extends InfraError<'NOT_READY'> {
  readonly status: string;

  constructor(owner: string, status: string, timeoutMs: number) {
    super('NOT_READY', `${owner}: Redis is not reachable (connection ${status} after ${timeoutMs} ms)`, {
      isRetryable: true,
    });
    this.status = status;
  }
}

/** One wait per client for its next `ready` (or `end`), shared by every caller of {@link whenReady}. */
const readiness = new WeakMap<RedisClient, Promise<void>>();

function nextReady(client: RedisClient, owner: string): Promise<void> {
  let pending = readiness.get(client);
  if (!pending) {
    pending = new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        client.off('ready', onReady);
        client.off('end', onEnd);
        readiness.delete(client);
      };
      const onReady = (): void => {
        settle();
        resolve();
      };
      const onEnd = (): void => {
        settle();
        reject(new RedisNotReadyError(owner, 'closed', 0));
      };
      client.once('ready', onReady);
      client.once('end', onEnd);
    });
    // A caller that timed out no longer listens; the shared wait must not become an unhandled rejection.
    pending.catch(() => undefined);
    readiness.set(client, pending);
  }
  return pending;
}

/**
 * Resolves once `client` can take commands, waiting at most `timeoutMs`: at start the first
 * command waits for the connection instead of failing, and while the server is away every caller
 * gets an answer within its bound. A client created with `lazyConnect` is connected here.
 */
export function whenReady(client: RedisClient, timeoutMs: number, owner: string): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new RedisNotReadyError(owner, 'closed', 0));
  const ready = nextReady(client, owner);
  if (client.status === 'wait') client.connect().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new RedisNotReadyError(owner, client.status, timeoutMs));
    }, timeoutMs);
    timer.unref();
  });
  return Promise.race([ready, timedOut]).finally(() => {
    clearTimeout(timer);
  });
}

/** Closes a client this package created, and resolves once its connections are closed. */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'reconnecting') {
    // No socket is open; disconnect() clears the reconnect timer (ioredis emits no 'end' then).
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => {
    client.once('end', () => {
      resolve();
    });
  });
  if (client.status === 'ready') {
    await client.quit().catch(() => {
      client.disconnect();
    });
  } else {
    client.disconnect();
  }
  await ended;
}
