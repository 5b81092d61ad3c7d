export { Persistence } from './persistence.js';
export {
  configurePersistence,
  closePersistence,
  createUnitOfWork,
  getPersistence,
  runUnitOfWork,
  setDefaultPersistence,
  withRetries,
  withTransaction,
} from './default-persistence.js';
export { resolvePersistenceOptions } from './persistence-options.js';
export type { PersistenceOptions, ResolvedPersistenceOptions } from './persistence-options.js';
export type { PgPoolOptions } from './pool-options.js';
export type { PersistenceEvents } from './persistence.js';
export { TransactionManager } from './transaction-manager.js';
export type { TransactionManagerEvents, TransactionManagerOptions } from './transaction-manager.js';
export { isTransaction } from './transaction.js';
export type { Transaction, TransactionHook, TransactionStatus } from './transaction.js';
export type { IsolationLevel, TransactionOptions } from './transaction-options.js';
export { UnitOfWork } from './unit-of-work.js';
export type { RunUnitOfWorkOptions, UnitOfWorkOptions, UnitOfWorkState } from './unit-of-work.js';
export { Repository, RepositoryRegistry } from './repository.js';
export type { RegisteredRepositories, RepositoryFactories, RepositoryFactory, RepositoryTypes } from './repository.js';
export type {
  AcquireOptions,
  CloseOptions,
  DatabaseDriver,
  DriverCapabilities,
  DriverConnection,
  PoolStats,
  QueryParams,
  QueryResult,
  Queryable,
} from './driver.js';
export { toPersistenceError } from './driver-errors.js';
export { checkDatabaseHealth } from './health-check.js';
export type { DatabaseHealth, DatabaseHealthOptions } from './health-check.js';
export { migrate, lockKey as migrationLockKey } from './migrations/migrate.js';
export type { MigrateOptions, MigrationResult } from './migrations/migrate.js';
export { checksumOf, loadMigrations } from './migrations/migration.js';
export type { Migration } from './migrations/migration.js';
export { addToOutbox, fetchOutboxBatch, markOutboxFailed, markOutboxSent, outboxMigration } from './outbox.js';
export type { AddToOutboxOptions, FetchOutboxOptions, OutboxMessage, OutboxTableOptions } from './outbox.js';
export { ErrorCodes, InvalidOptionError, PersistenceError, isPersistenceError } from './errors.js';
export type { ErrorCode, PersistenceErrorInit, PersistenceErrorsByCode } from './errors.js';
