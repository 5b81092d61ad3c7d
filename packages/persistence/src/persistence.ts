import { EventHub, errorMessage, withSpan } from '@infra/core';
import type { CloseOptions, DatabaseDriver, QueryParams, QueryResult, Queryable } from './driver.js';
import { PersistenceError } from './errors.js';
import { checkDatabaseHealth, type DatabaseHealth } from './health-check.js';
import { migrate, type MigrateOptions, type MigrationResult } from './migrations/migrate.js';
import {
  resolvePersistenceOptions,
  type PersistenceOptions,
  type ResolvedPersistenceOptions,
} from './persistence-options.js';
import { RepositoryRegistry, type RegisteredRepositories, type RepositoryFactory } from './repository.js';
import { TransactionManager, type TransactionManagerEvents } from './transaction-manager.js';
import type { TransactionOptions } from './transaction-options.js';
import type { Transaction } from './transaction.js';
import { UnitOfWork, type RunUnitOfWorkOptions, type UnitOfWorkOptions } from './unit-of-work.js';
import { systemAttributes, tracer } from './telemetry.js';
import { check, checkArgument, plainObject } from './validate.js';

/** The events of a {@link Persistence}: its transactions', and the failures of the driver it created. */
export interface PersistenceEvents extends TransactionManagerEvents {
  /**
   * A connection of the pool the persistence created failed while idle (it is dropped from the
   * pool; the next transaction gets a new one). Without a listener it becomes a process warning.
   */
  error: { error: unknown };
}

type AnyListener = (payload: TransactionManagerEvents[keyof TransactionManagerEvents]) => void;
type Subscription = [keyof TransactionManagerEvents, AnyListener, (() => void) | undefined];

/**
 * A database with its transaction manager and repository registry. `start()` connects (loading
 * `pg` or PGlite only then); the other methods start it on first use. `close()` drains and closes
 * what it created.
 */
export class Persistence<R extends object = RegisteredRepositories> {
  readonly options: ResolvedPersistenceOptions;
  readonly repositories: RepositoryRegistry<R>;
  private manager: TransactionManager | undefined;
  private starting: Promise<TransactionManager> | undefined;
  private closing: Promise<void> | undefined;
  private ownedDriver: DatabaseDriver | undefined;
  private readonly subscriptions: Subscription[] = [];
  private readonly failures = new EventHub<Pick<PersistenceEvents, 'error'>>();

  constructor(options: PersistenceOptions<R> = {}, env: Record<string, string | undefined> = process.env) {
    this.options = resolvePersistenceOptions(options, env);
    this.repositories = new RepositoryRegistry<R>(options.repositories);
  }

  /** Connects and returns the transaction manager. Idempotent. */
  start(): Promise<TransactionManager> {
    if (this.closing) return Promise.reject(new PersistenceError('CLOSED', 'This persistence is closed'));
    this.starting ??= this.connect().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  /** The transaction manager of a started persistence. */
  get transactionManager(): TransactionManager {
    if (!this.manager)
      throw new PersistenceError('NOT_CONFIGURED', 'Persistence is not started: await persistence.start() first');
    return this.manager;
  }

  get driver(): DatabaseDriver {
    return this.transactionManager.driver;
  }

  /** Runs SQL in the ambient transaction, or on its own outside one (for repositories built once). */
  get db(): Queryable {
    return { query: (sql, params) => this.query(sql, params) };
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<T>> {
    return (await this.start()).query<T>(sql, params);
  }

  on<K extends keyof PersistenceEvents>(event: K, listener: (payload: PersistenceEvents[K]) => void): () => void {
    if (event === 'error') return this.failures.on('error', listener as (payload: PersistenceEvents['error']) => void);
    return this.onTransactions(event, listener as AnyListener);
  }

  private onTransactions(event: keyof TransactionManagerEvents, listener: AnyListener): () => void {
    if (this.manager) return this.manager.on(event, listener);
    const subscription: Subscription = [event, listener, undefined];
    this.subscriptions.push(subscription);
    return () => {
      const index = this.subscriptions.indexOf(subscription);
      if (index >= 0) this.subscriptions.splice(index, 1);
      subscription[2]?.();
    };
  }

  async withTransaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return (await this.start()).withTransaction(fn, options);
  }

  /** The open transaction of the current async context, if any. */
  currentTransaction(): Transaction | undefined {
    return this.manager?.current();
  }

  /** A new unit of work; call `begin()` on it. */
  async createUnitOfWork(options: UnitOfWorkOptions = {}): Promise<UnitOfWork<R>> {
    const manager = await this.start();
    return new UnitOfWork<R>(manager, this.repositories, { timeoutMs: this.options.unitOfWorkTimeoutMs, ...options });
  }

  /**
   * Runs `fn` in a unit of work of its own: begins it, commits when `fn` resolves (unless `fn`
   * committed or rolled back itself), rolls back when it throws, and runs it all again in a new
   * unit of work after a serialization failure or a deadlock (up to `retries` times, with
   * backoff). `fn` must therefore be safe to repeat: keep side effects for `afterCommit`.
   */
  async runUnitOfWork<T>(
    fn: (unitOfWork: UnitOfWork<R>) => Promise<T>,
    options: RunUnitOfWorkOptions = {},
  ): Promise<T> {
    checkArgument.fn('fn', fn);
    const { retries, ...unitOptions } = plainObject('options', options, 'INVALID_ARGUMENT') as RunUnitOfWorkOptions;
    if (retries !== undefined) checkArgument.integer('retries', retries, 0);
    const manager = await this.start();
    return withSpan(tracer, 'unit of work', { attributes: systemAttributes }, (span) =>
      manager.retrying(async (attempt) => {
        span?.setAttribute('db.transaction.attempts', attempt);
        const unitOfWork = await this.createUnitOfWork(unitOptions);
        await unitOfWork.begin();
        let result: T;
        try {
          result = await fn(unitOfWork);
        } catch (error) {
          if (unitOfWork.state === 'active') await unitOfWork.rollback();
          throw error;
        }
        if (unitOfWork.state === 'active') await unitOfWork.commit();
        return result;
      }, retries),
    );
  }

  /**
   * Runs `fn` again after a serialization failure or a deadlock (up to `retries` times, by default
   * the persistence's, with backoff): for a function that manages its own unit of work, as the
   * documented `begin`/`commit`/`rollback` form does. `fn` must be safe to repeat.
   */
  async withRetries<T>(fn: () => Promise<T>, options: { retries?: number } = {}): Promise<T> {
    checkArgument.fn('fn', fn);
    const { retries } = plainObject('options', options, 'INVALID_ARGUMENT') as { retries?: number };
    if (retries !== undefined) checkArgument.integer('retries', retries, 0);
    return (await this.start()).retrying(() => fn(), retries);
  }

  registerRepository<K extends keyof R & string>(name: K, factory: RepositoryFactory<R[K]>): this {
    this.repositories.register(name, factory);
    return this;
  }

  /** Repository `name` bound to `tx`, or to the ambient transaction. */
  getRepository<K extends keyof R & string>(name: K, tx: Transaction | undefined = this.currentTransaction()): R[K] {
    if (!tx) {
      throw new PersistenceError(
        'TRANSACTION_CLOSED',
        `getRepository(${JSON.stringify(name)}) needs a transaction: pass one or call it inside withTransaction`,
      );
    }
    return this.repositories.create(name, tx);
  }

  async healthCheck(): Promise<DatabaseHealth> {
    const manager = await this.start();
    return checkDatabaseHealth(manager.driver, {
      timeoutMs: this.options.healthTimeoutMs,
      warnSaturation: this.options.healthWarnSaturation,
    });
  }

  async migrate(options: MigrateOptions): Promise<MigrationResult> {
    return migrate((await this.start()).driver, options);
  }

  /**
   * Waits for open transactions (at most `timeoutMs`, by default `closeTimeoutMs`), rolls back the
   * rest, then closes the driver it created (never an injected one). Idempotent.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const timeoutMs = check.integer('timeoutMs', options.timeoutMs ?? this.options.closeTimeoutMs, 0);
    this.closing ??= this.shutdown(timeoutMs);
    await this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const manager = await this.starting?.catch(() => undefined);
    if (manager) await manager.close({ timeoutMs });
    await this.ownedDriver?.close({ timeoutMs });
  }

  private async connect(): Promise<TransactionManager> {
    const driver = await this.createDriver();
    const manager = new TransactionManager(driver, {
      isolationLevel: this.options.isolationLevel,
      retries: this.options.retries,
      retryInitialDelayMs: this.options.retryInitialDelayMs,
      retryMaxDelayMs: this.options.retryMaxDelayMs,
      acquireTimeoutMs: this.options.acquireTimeoutMs,
      ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
    });
    for (const subscription of this.subscriptions) {
      subscription[2] = manager.on(subscription[0], subscription[1]);
    }
    this.manager = manager;
    return manager;
  }

  private async createDriver(): Promise<DatabaseDriver> {
    const o = this.options;
    if (o.driver) return o.driver;
    if (o.driverKind === 'pg') {
      const { createPgDriver } = await import('./pg/pg-driver.js');
      const driver = await createPgDriver({
        connectionString: o.connectionString,
        poolSize: o.poolSize,
        connectTimeoutMs: o.connectTimeoutMs,
        acquireTimeoutMs: o.acquireTimeoutMs,
        idleTimeoutMs: o.idleTimeoutMs,
        statementTimeoutMs: o.statementTimeoutMs,
        idleInTransactionTimeoutMs: o.idleInTransactionTimeoutMs,
        queryTimeoutMs: o.queryTimeoutMs,
        ...(o.searchPath === undefined ? {} : { searchPath: o.searchPath }),
      });
      driver.on('error', ({ error }) => {
        this.reportFailure(error);
      });
      this.ownedDriver = driver;
    } else {
      const { createPgliteDriver } = await import('./pglite/pglite-driver.js');
      this.ownedDriver = await createPgliteDriver({
        acquireTimeoutMs: o.acquireTimeoutMs,
        ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
      });
    }
    return this.ownedDriver;
  }

  private reportFailure(error: unknown): void {
    const logger = this.options.logger;
    logger?.warn({ err: error }, `an idle database connection failed: ${errorMessage(error)}`);
    if (this.failures.has('error')) this.failures.emit('error', { error });
    // Said once: through the logger when there is one, else as a process warning.
    else if (logger === undefined) {
      process.emitWarning(`An idle database connection failed: ${errorMessage(error)}`, {
        code: 'INFRA_PERSISTENCE_CONNECTION',
      });
    }
  }
}
