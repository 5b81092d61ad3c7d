import { InvalidOptionError, check } from '../errors.js';
import type { CheckFunction, CheckOutcome } from '../types.js';

/** Pool usage as the check reports it. */
export interface PoolUsage {
  max: number;
  inUse: number;
  waiting: number;
}

/** A `pg.Pool`, a `pg.Client`, `Persistence#db` of `@infra/persistence`: anything with `query(sql)`. */
export interface QueryClient {
  query(sql: string): Promise<unknown>;
}

export interface PostgresCheckOptions {
  /** What runs `SELECT 1`. A `pg.Pool` also gives its usage (`totalCount`, `idleCount`, `waitingCount`). */
  client: QueryClient;
  /**
   * Pool usage, when `client` is not a `pg.Pool` (e.g. `() => persistence.driver.stats()`).
   * @default read from a pg.Pool client, else none
   */
  stats?: () => PoolUsage;
  /**
   * Share of the pool in use (0-1) from which the check warns; callers waiting also warn.
   * @default 0.9
   */
  warnSaturation?: number;
}

/**
 * A check of a Postgres database: runs `SELECT 1`, observes its round trip in ms, and warns when
 * the pool is nearly exhausted or callers wait for a connection (details: the pool's usage).
 * Register it as critical: `service.register('database', postgresCheck({ client: pool }), true)`.
 */
export function postgresCheck(options: PostgresCheckOptions): CheckFunction {
  check.plainObject('options', options);
  const client = options.client as Partial<QueryClient> | undefined;
  if (typeof client?.query !== 'function') throw new InvalidOptionError('client', client, 'a client with query(sql)');
  const stats = check.optionalFn<() => PoolUsage>('stats', options.stats) ?? pgPoolUsage(client);
  const warnSaturation = check.ratio('warnSaturation', options.warnSaturation ?? 0.9);
  const query: QueryClient['query'] = (sql) => (client as QueryClient).query(sql);

  return async (): Promise<CheckOutcome> => {
    const started = performance.now();
    await query('SELECT 1');
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const pool = stats?.();
    if (pool === undefined) return { status: 'pass', observedValue: latencyMs, observedUnit: 'ms' };
    const saturated = pool.max > 0 && pool.inUse / pool.max >= warnSaturation;
    const busy = saturated || pool.waiting > 0;
    return {
      status: busy ? 'warn' : 'pass',
      message: `${pool.inUse}/${pool.max} connections in use, ${pool.waiting} waiting`,
      observedValue: latencyMs,
      observedUnit: 'ms',
      details: { pool },
    };
  };
}

function pgPoolUsage(client: object): (() => PoolUsage) | undefined {
  const pool = client as {
    totalCount?: unknown;
    idleCount?: unknown;
    waitingCount?: unknown;
    options?: { max?: unknown };
  };
  if (typeof pool.totalCount !== 'number' || typeof pool.idleCount !== 'number') return undefined;
  return () => {
    const p = pool as { totalCount: number; idleCount: number; waitingCount?: number; options?: { max?: unknown } };
    return {
      max: typeof p.options?.max === 'number' ? p.options.max : p.totalCount,
      inUse: p.totalCount - p.idleCount,
      waiting: p.waitingCount ?? 0,
    };
  };
}
