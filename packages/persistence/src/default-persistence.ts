import type { CloseOptions } from './driver.js';
import { PersistenceError } from './errors.js';
import { Persistence } from './persistence.js';
import type { PersistenceOptions } from './persistence-options.js';
import type { RegisteredRepositories } from './repository.js';
import type { TransactionOptions } from './transaction-options.js';
import type { Transaction } from './transaction.js';
import type { RunUnitOfWorkOptions, UnitOfWork, UnitOfWorkOptions } from './unit-of-work.js';

let current: Persistence<object> | undefined;

/**
 * Creates the application's default persistence, used by {@link createUnitOfWork} and
 * {@link withTransaction}. Call it once at startup; a second call before `closePersistence()` fails.
 */
export function configurePersistence<R extends object = RegisteredRepositories>(
  options: PersistenceOptions<R> = {},
): Persistence<R> {
  if (current) {
    throw new PersistenceError(
      'ALREADY_CONFIGURED',
      'Persistence is already configured: call closePersistence() before configuring it again',
    );
  }
  const persistence = new Persistence<R>(options);
  current = persistence;
  return persistence;
}

/** Makes `persistence` the default (or clears it with `undefined`). The previous one is not closed. */
export function setDefaultPersistence(persistence: Persistence<object> | undefined): void {
  if (persistence !== undefined && !(persistence instanceof Persistence)) {
    throw new PersistenceError('INVALID_ARGUMENT', 'setDefaultPersistence needs a Persistence or undefined');
  }
  current = persistence;
}

/** The default persistence. */
export function getPersistence<R extends object = RegisteredRepositories>(): Persistence<R> {
  if (!current) {
    throw new PersistenceError(
      'NOT_CONFIGURED',
      'No default persistence: call configurePersistence({ repositories, ... }) at startup',
    );
  }
  return current as Persistence<R>;
}

/** A new unit of work on the default persistence; call `begin()` on it. */
export async function createUnitOfWork<R extends object = RegisteredRepositories>(
  options?: UnitOfWorkOptions,
): Promise<UnitOfWork<R>> {
  return getPersistence<R>().createUnitOfWork(options);
}

/** `runUnitOfWork` of the default persistence: a unit of work begun, committed and retried for you. */
export async function runUnitOfWork<T, R extends object = RegisteredRepositories>(
  fn: (unitOfWork: UnitOfWork<R>) => Promise<T>,
  options?: RunUnitOfWorkOptions,
): Promise<T> {
  return getPersistence<R>().runUnitOfWork(fn, options);
}

/** `withRetries` of the default persistence: reruns a function after serialization failures and deadlocks. */
export async function withRetries<T>(fn: () => Promise<T>, options?: { retries?: number }): Promise<T> {
  return getPersistence().withRetries(fn, options);
}

/** `withTransaction` of the default persistence. */
export async function withTransaction<T>(
  fn: (tx: Transaction) => Promise<T>,
  options?: TransactionOptions,
): Promise<T> {
  return getPersistence().withTransaction(fn, options);
}

/** Closes the default persistence (see `Persistence.close`) and clears it. Idempotent. */
export async function closePersistence(options?: CloseOptions): Promise<void> {
  const persistence = current;
  current = undefined;
  await persistence?.close(options);
}
