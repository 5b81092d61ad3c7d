import { InvalidOptionError } from '../errors.js';
import { integer, nonEmptyString, plainObject } from '../validate.js';
import type { PersistenceLike } from './postgres-db.js';

export interface PostgresAdapterOptions {
  /**
   * An `@infra/persistence` instance on the pg driver: the adapter's statements go through its
   * pool (never its ambient transaction), and {@link PostgresInbox.ack} joins its transactions.
   * It is never closed by the adapter.
   * @default none: a pool is created from `connectionString`
   */
  persistence?: PersistenceLike;
  /**
   * Connection string of the pool the adapter creates (and closes). With `persistence`, only the
   * LISTEN connection uses it. @default process.env.DATABASE_URL (without `persistence`)
   */
  connectionString?: string;
  /** Schema holding the adapter's tables, created on first use; also the NOTIFY channel. @default 'infra_messaging' */
  schema?: string;
  /**
   * `application_name` of the connections the adapter opens.
   * @default '@infra/messaging' (with `persistence`: its pool's)
   */
  applicationName?: string;
  /** Fallback poll of an idle consumer, for a NOTIFY that never arrived (ms). @default 5000 */
  pollIntervalMs?: number;
  /**
   * A delivery whose consumer stopped renewing it (it died) goes back to its group after this
   * long, with its delivery count raised (ms). A live consumer renews what it holds every third of it.
   * @default 30_000
   */
  visibilityTimeoutMs?: number;
  /** Most deliveries taken per statement. @default 100 */
  batchSize?: number;
  /**
   * Messages older than this that every group has handled are deleted (ms); replay reaches back as far.
   * @default 7 days
   */
  retentionMs?: number;
  /** Connections of the pool the adapter creates. @default 10 */
  poolSize?: number;
  /** Bound on opening a connection, and on the LISTEN connection's answer to a probe (ms). @default 5000 */
  connectTimeoutMs?: number;
  /**
   * Bound on each statement of the pool the adapter creates; a stalled connection is dropped after it (ms).
   * @default 10_000
   */
  queryTimeoutMs?: number;
}

export interface ResolvedPostgresOptions {
  persistence: PersistenceLike | undefined;
  connectionString: string | undefined;
  schema: string;
  applicationName: string | undefined;
  pollIntervalMs: number;
  visibilityTimeoutMs: number;
  batchSize: number;
  retentionMs: number;
  poolSize: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks every option (a coded `INVALID_OPTION` naming the bad one) and fills in the defaults. */
export function resolvePostgresOptions(
  options: PostgresAdapterOptions,
  env: Record<string, string | undefined> = process.env,
): ResolvedPostgresOptions {
  plainObject('options', options);
  const persistence = options.persistence;
  if (
    persistence !== undefined &&
    (typeof (persistence as Partial<PersistenceLike> | null)?.start !== 'function' ||
      typeof (persistence as Partial<PersistenceLike>).currentTransaction !== 'function')
  ) {
    throw new InvalidOptionError('persistence', persistence, 'an @infra/persistence Persistence');
  }
  let connectionString = options.connectionString;
  if (connectionString !== undefined) nonEmptyString('connectionString', connectionString);
  if (persistence === undefined && connectionString === undefined) {
    connectionString = env.DATABASE_URL;
    if (connectionString === undefined || connectionString === '') {
      throw new InvalidOptionError(
        'connectionString',
        connectionString,
        'a postgres:// URL (or set DATABASE_URL), or pass persistence',
      );
    }
  }
  if (connectionString !== undefined && !/^postgres(ql)?:\/\//.test(connectionString)) {
    throw new InvalidOptionError(
      options.connectionString === undefined ? 'DATABASE_URL' : 'connectionString',
      '(hidden)',
      'a postgres:// or postgresql:// URL',
    );
  }
  const schema: unknown = options.schema ?? 'infra_messaging';
  if (typeof schema !== 'string' || !identifier.test(schema)) {
    throw new InvalidOptionError('schema', schema, 'a lower-case SQL identifier (letters, digits, "_"; 1-63)');
  }
  const applicationName =
    options.applicationName === undefined ? undefined : nonEmptyString('applicationName', options.applicationName);
  return {
    persistence,
    connectionString,
    schema,
    applicationName,
    pollIntervalMs: integer('pollIntervalMs', options.pollIntervalMs ?? 5000),
    visibilityTimeoutMs: integer('visibilityTimeoutMs', options.visibilityTimeoutMs ?? 30_000, 30),
    batchSize: integer('batchSize', options.batchSize ?? 100),
    retentionMs: integer('retentionMs', options.retentionMs ?? 7 * 24 * 3_600_000),
    poolSize: integer('poolSize', options.poolSize ?? 10),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 5000),
    queryTimeoutMs: integer('queryTimeoutMs', options.queryTimeoutMs ?? 10_000),
  };
}
