import { InvalidOptionError } from './errors.js';
import type { Transaction } from './transaction.js';
import { check, plainObject } from './validate.js';

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export const isolationLevels: readonly IsolationLevel[] = ['read committed', 'repeatable read', 'serializable'];

/**
 * Default retries of serialization failures and deadlocks and their backoff (ms), shared by
 * `TransactionManager` and `Persistence` (see `TransactionManagerOptions.retries` for why 20).
 */
export const retryDefaults = { retries: 20, retryInitialDelayMs: 20, retryMaxDelayMs: 1000 } as const;

/** Options of one `withTransaction` call (or one unit of work's `begin`). */
export interface TransactionOptions {
  /** Isolation level of the outermost transaction. @default the manager's `isolationLevel` ('read committed') */
  isolationLevel?: IsolationLevel;
  /** Starts a `READ ONLY` transaction. @default false */
  readOnly?: boolean;
  /**
   * `DEFERRABLE`: with `serializable` and `readOnly`, waits for a safe snapshot and then can never
   * fail with a serialization error. @default false
   */
  deferrable?: boolean;
  /**
   * `SET LOCAL statement_timeout` for this transaction only (ms; 0 disables). Costs one extra
   * round trip per transaction, so a pool-wide timeout belongs in the driver options.
   * @default undefined (the connection's setting)
   */
  statementTimeoutMs?: number;
  /**
   * Retries of the whole transaction after a serialization failure (40001) or deadlock (40P01),
   * with backoff. Only the outermost call retries: nested calls become savepoints and let the
   * error reach it. `fn` must therefore be safe to run again.
   * @default the manager's `retries` (20)
   */
  retries?: number;
  /**
   * Joins this transaction as a savepoint instead of the ambient one (the explicit handle).
   * @default the ambient transaction of the current async context, if any
   */
  parent?: Transaction;
}

export interface ResolvedTransactionOptions {
  isolationLevel: IsolationLevel;
  readOnly: boolean;
  deferrable: boolean;
  statementTimeoutMs: number | undefined;
}

export function validateTransactionOptions(options: unknown): TransactionOptions {
  const value = plainObject('options', options, 'INVALID_ARGUMENT') as TransactionOptions;
  if (value.isolationLevel !== undefined) check.oneOf('isolationLevel', value.isolationLevel, isolationLevels);
  if (value.readOnly !== undefined) check.boolean('readOnly', value.readOnly);
  if (value.deferrable !== undefined) check.boolean('deferrable', value.deferrable);
  if (value.statementTimeoutMs !== undefined) check.integer('statementTimeoutMs', value.statementTimeoutMs, 0);
  if (value.retries !== undefined) check.integer('retries', value.retries, 0);
  return value;
}

export function resolveTransactionOptions(
  options: TransactionOptions,
  defaultIsolation: IsolationLevel,
): ResolvedTransactionOptions {
  return {
    isolationLevel: options.isolationLevel ?? defaultIsolation,
    readOnly: options.readOnly ?? false,
    deferrable: options.deferrable ?? false,
    statementTimeoutMs: options.statementTimeoutMs,
  };
}

/** A savepoint cannot change what the outermost transaction fixed; asking for it is a bug, not a no-op. */
export function checkNestedOptions(parent: Transaction, options: TransactionOptions): void {
  const conflicts: [keyof TransactionOptions, unknown, unknown][] = [
    ['isolationLevel', options.isolationLevel, parent.isolationLevel],
    ['readOnly', options.readOnly, parent.readOnly],
  ];
  for (const [option, asked, actual] of conflicts) {
    if (asked !== undefined && asked !== actual) {
      throw new InvalidOptionError(
        option,
        asked,
        `${String(actual)} (a nested transaction is a savepoint of ${parent.id} and cannot change ${option})`,
      );
    }
  }
  if (options.deferrable !== undefined || options.statementTimeoutMs !== undefined) {
    const option = options.deferrable !== undefined ? 'deferrable' : 'statementTimeoutMs';
    throw new InvalidOptionError(
      option,
      options[option],
      `nothing: only the outermost transaction (${parent.id}) sets it`,
    );
  }
}

export function beginStatement(options: ResolvedTransactionOptions): string {
  let sql = `BEGIN ISOLATION LEVEL ${options.isolationLevel.toUpperCase()}`;
  if (options.readOnly) sql += ' READ ONLY';
  if (options.deferrable) sql += ' DEFERRABLE';
  return sql;
}
