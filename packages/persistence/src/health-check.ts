import type { DatabaseDriver, PoolStats } from './driver.js';
import { errorMessage } from '@infra/core';
import { PersistenceError, isPersistenceError } from './errors.js';
import { check, integer } from './validate.js';

/** One check in the `application/health+json` style (draft-inadarei-api-health-check), for @infra/health. */
export interface DatabaseHealth {
  status: 'pass' | 'warn' | 'fail';
  componentId: string;
  componentType: 'datastore';
  /** Round-trip time of `SELECT 1` in ms (absent when the probe failed). */
  observedValue?: number;
  observedUnit?: 'ms';
  /** ISO time of the check. */
  time: string;
  /** Why the status is not `pass`. */
  output?: string;
  pool: PoolStats & { saturation: number };
}

export interface DatabaseHealthOptions {
  /** The probe fails after this long (ms). @default 2000 */
  timeoutMs?: number;
  /** Share of the pool in use from which the check warns. @default 0.8 */
  warnSaturation?: number;
}

/**
 * Probes `driver` with one round trip and reports its pool. `fail`: the database did not answer;
 * `warn`: it answered but the pool is nearly full or callers wait (or the probe itself could not
 * get a connection from a full pool: the database may be fine, the service is not).
 */
export async function checkDatabaseHealth(
  driver: DatabaseDriver,
  options: DatabaseHealthOptions = {},
): Promise<DatabaseHealth> {
  const timeoutMs = integer('timeoutMs', options.timeoutMs ?? 2000, 1);
  const warnSaturation = check.ratio('warnSaturation', options.warnSaturation ?? 0.8);
  const started = performance.now();
  let probeError: unknown;
  try {
    await probe(driver, timeoutMs);
  } catch (error) {
    probeError = error;
  }
  const observed = Math.round((performance.now() - started) * 100) / 100;
  const stats = driver.stats();
  const saturation = stats.max > 0 ? stats.inUse / stats.max : 0;
  const base = {
    componentId: driver.name,
    componentType: 'datastore' as const,
    time: new Date().toISOString(),
    pool: { ...stats, saturation },
  };
  const poolText = `${stats.inUse}/${stats.max} connections in use, ${stats.waiting} waiting`;
  if (probeError !== undefined) {
    const starved = isPersistenceError(probeError, 'ACQUIRE_TIMEOUT');
    return {
      ...base,
      status: starved ? 'warn' : 'fail',
      output: `${starved ? 'Pool exhausted' : 'Database probe failed'}: ${errorMessage(probeError)} (${poolText})`,
    };
  }
  const result: DatabaseHealth = { ...base, status: 'pass', observedValue: observed, observedUnit: 'ms' };
  if (saturation >= warnSaturation || stats.waiting > 0) {
    result.status = 'warn';
    result.output = `Pool saturated: ${poolText}`;
  }
  return result;
}

async function probe(driver: DatabaseDriver, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const connection = await driver.acquire({ timeoutMs });
    try {
      await connection.query('SELECT 1');
    } finally {
      connection.release();
    }
  })();
  try {
    await Promise.race([
      work,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new PersistenceError('STATEMENT_TIMEOUT', `Database did not answer SELECT 1 within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // A probe we stopped waiting for still finishes (and releases its connection) on its own.
    work.catch(() => undefined);
  }
}
