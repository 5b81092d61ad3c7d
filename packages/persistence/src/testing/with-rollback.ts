import { PersistenceError } from '../errors.js';
import type { TransactionOptions } from '../transaction-options.js';
import type { Transaction } from '../transaction.js';

/** A `Persistence` or a `TransactionManager`. */
export interface RollbackTarget {
  withTransaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

/**
 * Runs `fn` in a transaction that is always rolled back, so a test leaves no data behind. Code
 * under test joins it (ambient propagation): its own transactions and units of work become
 * savepoints of it. Use it as the body of each test: `it('…', () => withRollback(db, async (tx) => {…}))`.
 */
export function withRollback<T>(
  target: RollbackTarget,
  fn: (tx: Transaction) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  if (typeof (target as Partial<RollbackTarget> | null)?.withTransaction !== 'function') {
    return Promise.reject(
      new PersistenceError('INVALID_ARGUMENT', 'withRollback needs a Persistence or a TransactionManager'),
    );
  }
  if (typeof fn !== 'function')
    return Promise.reject(new PersistenceError('INVALID_ARGUMENT', 'withRollback needs a function'));
  return target.withTransaction(
    (tx) => {
      tx.setRollbackOnly();
      return fn(tx);
    },
    { ...options, retries: 0 },
  );
}
