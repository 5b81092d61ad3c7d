import { InvalidOptionError, check } from '../errors.js';
import type { CheckFunction, CheckOutcome } from '../types.js';

/** An ioredis client (`Redis` or `Cluster`), or anything with `ping()`. */
export interface PingClient {
  ping(): Promise<string>;
}

export interface RedisCheckOptions {
  /** The client to ping; the caller's, never closed by the check. */
  client: PingClient;
}

/**
 * A check of a Redis server: `PING` must answer `PONG`; observes its round trip in ms. Use a client
 * with a command timeout or offline queue off (`createRedisClient` of `@infra/core/redis`), so that
 * a dead server fails the check instead of queueing the ping; the check's timeout bounds it anyway.
 */
export function redisCheck(options: RedisCheckOptions): CheckFunction {
  check.plainObject('options', options);
  const client = options.client as Partial<PingClient> | undefined;
  if (typeof client?.ping !== 'function') throw new InvalidOptionError('client', client, 'a Redis client with ping()');
  const ping: PingClient['ping'] = () => (client as PingClient).ping();
  return async (): Promise<CheckOutcome> => {
    const started = performance.now();
    const answer = await ping();
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    if (answer !== 'PONG') return { status: 'fail', message: `PING answered ${JSON.stringify(answer)}` };
    return { status: 'pass', observedValue: latencyMs, observedUnit: 'ms' };
  };
}
