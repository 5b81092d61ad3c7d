import type { Logger } from '@infra/core';
import type { DatabaseDriver } from './driver.js';
import { InvalidOptionError } from './errors.js';
import type { PgPoolOptions } from './pool-options.js';
import type { RepositoryFactories } from './repository.js';
import { isolationLevels, retryDefaults, type IsolationLevel } from './transaction-options.js';
import { check, integer, nonEmptyString, plainObject } from './validate.js';

/**
 * Everything a {@link import('./persistence.js').Persistence} can be configured with. The pool
 * settings ({@link PgPoolOptions}) apply to the pg driver created from `connectionString`;
 * `acquireTimeoutMs` applies to the embedded PGlite database too.
 */
export interface PersistenceOptions<R extends object = Record<string, unknown>> extends PgPoolOptions {
  /**
   * A driver to use (`createPgDriver`, `createPgliteDriver`, your own). Never closed by us. @default chosen from
   * `connectionString`
   */
  driver?: DatabaseDriver;
  /**
   * Postgres to connect to with `pg` (a pool created and closed by us). Without one, an embedded
   * PGlite database is used. @default process.env.DATABASE_URL
   */
  connectionString?: string | undefined;
  /** Data directory of the embedded PGlite database. @default in memory */
  dataDir?: string;
  /** Isolation level of transactions that do not ask for one. @default 'read committed' */
  isolationLevel?: IsolationLevel;
  /**
   * Retries after serialization failures and deadlocks (outermost `withTransaction`, and
   * `runUnitOfWork`). Enough for a handful of processes contending for one row at SERIALIZABLE,
   * on a busy machine too.
   * @default 20
   */
  retries?: number;
  /** First retry delay (ms), growing exponentially with full jitter. @default 20 */
  retryInitialDelayMs?: number;
  /** Longest retry delay (ms). @default 1000 */
  retryMaxDelayMs?: number;
  /** Units of work still open after this long are rolled back and reported (ms; 0 disables). @default 60_000 */
  unitOfWorkTimeoutMs?: number;
  /** `close()` waits this long for open transactions before rolling them back (ms). @default 5000 */
  closeTimeoutMs?: number;
  /** `healthCheck()` fails when the round trip takes longer (ms). @default 2000 */
  healthTimeoutMs?: number;
  /** `healthCheck()` warns when this share of the pool is in use, or callers wait. @default 0.8 */
  healthWarnSaturation?: number;
  /** Repository factories by name, for `unitOfWork.getRepository(name)`. @default {} */
  repositories?: RepositoryFactories<R>;
  /**
   * Logs transaction retries, abandoned transactions, throwing hooks and failures of idle pooled
   * connections; e.g. a pino logger. @default undefined (nothing is logged)
   */
  logger?: Logger;
}

export interface ResolvedPersistenceOptions {
  driver: DatabaseDriver | undefined;
  /** Which driver `start()` uses. */
  driverKind: 'injected' | 'pg' | 'pglite';
  connectionString: string | undefined;
  dataDir: string | undefined;
  poolSize: number;
  connectTimeoutMs: number;
  acquireTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  queryTimeoutMs: number;
  searchPath: string | undefined;
  isolationLevel: IsolationLevel;
  retries: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  unitOfWorkTimeoutMs: number;
  closeTimeoutMs: number;
  healthTimeoutMs: number;
  healthWarnSaturation: number;
  logger: Logger | undefined;
}

/**
 * Validates `options` (and `DATABASE_URL` from `env` when no connection string is given) and fills
 * in the defaults. A bad value fails here, naming the option or variable.
 */
export function resolvePersistenceOptions<R extends object>(
  options: PersistenceOptions<R> = {},
  env: Record<string, string | undefined> = process.env,
): ResolvedPersistenceOptions {
  plainObject('options', options, 'INVALID_ARGUMENT');
  const driver = options.driver;
  if (driver !== undefined && typeof (driver as Partial<DatabaseDriver> | null)?.acquire !== 'function') {
    throw new InvalidOptionError('driver', driver, 'a DatabaseDriver (createPgDriver(), createPgliteDriver())');
  }
  let connectionString: string | undefined;
  if (options.connectionString !== undefined) {
    connectionString = postgresUrl('connectionString', options.connectionString);
  } else if (driver === undefined && env.DATABASE_URL !== undefined && env.DATABASE_URL !== '') {
    connectionString = postgresUrl('DATABASE_URL', env.DATABASE_URL);
  }
  const retryInitialDelayMs = integer(
    'retryInitialDelayMs',
    options.retryInitialDelayMs ?? retryDefaults.retryInitialDelayMs,
  );
  const retryMaxDelayMs = integer('retryMaxDelayMs', options.retryMaxDelayMs ?? retryDefaults.retryMaxDelayMs);
  if (retryMaxDelayMs < retryInitialDelayMs) {
    throw new InvalidOptionError(
      'retryMaxDelayMs',
      retryMaxDelayMs,
      `a delay >= retryInitialDelayMs (${retryInitialDelayMs})`,
    );
  }
  return {
    driver,
    driverKind: driver !== undefined ? 'injected' : connectionString !== undefined ? 'pg' : 'pglite',
    connectionString,
    dataDir: options.dataDir === undefined ? undefined : nonEmptyString('dataDir', options.dataDir),
    poolSize: integer('poolSize', options.poolSize ?? 10, 1),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 5000, 1),
    acquireTimeoutMs: integer('acquireTimeoutMs', options.acquireTimeoutMs ?? 10_000, 1),
    idleTimeoutMs: integer('idleTimeoutMs', options.idleTimeoutMs ?? 30_000),
    statementTimeoutMs: integer('statementTimeoutMs', options.statementTimeoutMs ?? 0),
    idleInTransactionTimeoutMs: integer('idleInTransactionTimeoutMs', options.idleInTransactionTimeoutMs ?? 60_000),
    queryTimeoutMs: integer('queryTimeoutMs', options.queryTimeoutMs ?? 0),
    searchPath: options.searchPath === undefined ? undefined : nonEmptyString('searchPath', options.searchPath),
    isolationLevel: check.oneOf('isolationLevel', options.isolationLevel ?? 'read committed', isolationLevels),
    retries: integer('retries', options.retries ?? retryDefaults.retries),
    retryInitialDelayMs,
    retryMaxDelayMs,
    unitOfWorkTimeoutMs: integer('unitOfWorkTimeoutMs', options.unitOfWorkTimeoutMs ?? 60_000),
    closeTimeoutMs: integer('closeTimeoutMs', options.closeTimeoutMs ?? 5000),
    healthTimeoutMs: integer('healthTimeoutMs', options.healthTimeoutMs ?? 2000, 1),
    healthWarnSaturation: check.ratio('healthWarnSaturation', options.healthWarnSaturation ?? 0.8),
    logger: check.optionalLogger('logger', options.logger),
  };
}

function postgresUrl(option: string, value: unknown): string {
  const text = nonEmptyString(option, value);
  let protocol: string;
  try {
    protocol = new URL(text).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    // Never echo the value: connection strings carry passwords.
    throw new InvalidOptionError(option, '<redacted>', 'a postgres:// or postgresql:// URL');
  }
  return text;
}
