import { ContextSlot, EventHub, errorMessage, withSpan, type Logger } from '@infra/core';
import { RetryPolicy } from '@infra/resilience';
import type { CloseOptions, DatabaseDriver, QueryParams, QueryResult, Queryable } from './driver.js';
import { PersistenceError, findErrorCode, isPersistenceError } from './errors.js';
import {
  beginStatement,
  checkNestedOptions,
  isolationLevels,
  resolveTransactionOptions,
  retryDefaults,
  validateTransactionOptions,
  type IsolationLevel,
  type TransactionOptions,
} from './transaction-options.js';
import {
  TransactionScope,
  isTransaction,
  type Transaction,
  type TransactionHook,
  type TransactionHost,
} from './transaction.js';
import { systemAttributes, tracer } from './telemetry.js';
import { check, checkArgument, integer } from './validate.js';

export interface TransactionManagerOptions {
  /** Isolation level of transactions that do not ask for one. @default 'read committed' */
  isolationLevel?: IsolationLevel;
  /**
   * Retries after serialization failures and deadlocks, outermost transaction only. Backing off
   * exponentially with full jitter, a transaction that lost keeps losing to fresh ones, so the
   * tail is long: with four processes updating one row at SERIALIZABLE, one in a few hundred
   * transactions needs 8-9 attempts, more when the machine is starved of CPU (3 retries lost about
   * one in ten of the transactions; 10 lost one now and then beside CPU-burning processes).
   * @default 20
   */
  retries?: number;
  /** Delay before the first retry (ms); later ones back off exponentially with full jitter. @default 20 */
  retryInitialDelayMs?: number;
  /** Longest delay between retries (ms). @default 1000 */
  retryMaxDelayMs?: number;
  /** How long to wait for a pooled connection before failing with `ACQUIRE_TIMEOUT` (ms). @default 10_000 */
  acquireTimeoutMs?: number;
  /**
   * Logs retries (`debug`), abandoned transactions (`warn`) and throwing hooks (`error`), with the
   * error under `err`; e.g. a pino logger. @default undefined (nothing is logged; the events still fire)
   */
  logger?: Logger;
}

export interface TransactionManagerEvents {
  commit: { id: string; attempt: number; durationMs: number };
  rollback: { id: string; attempt: number; durationMs: number; error?: unknown };
  retry: { attempt: number; delayMs: number; error: unknown };
  /** A hook threw; the transaction's outcome stands. */
  hookError: { id: string; hook: 'afterCommit' | 'afterRollback'; error: unknown };
  /** A transaction was found open by a deadline, the garbage collector or its parent's end, and rolled back. */
  abandoned: { id: string; reason: string; ageMs: number };
}

const retryableCodes = ['SERIALIZATION_FAILURE', 'DEADLOCK_DETECTED'] as const;

/**
 * Runs functions in transactions on a driver: savepoints for nested calls, ambient propagation
 * through a context slot of @infra/core (AsyncLocalStorage), retries of serialization failures and
 * deadlocks, commit/rollback hooks.
 */
export class TransactionManager implements TransactionHost {
  readonly driver: DatabaseDriver;
  readonly nestedWaitMs: number;
  private readonly storage = new ContextSlot<TransactionScope>('@infra/persistence transaction');
  private readonly events = new EventHub<TransactionManagerEvents>();
  private readonly isolationLevel: IsolationLevel;
  private readonly retries: number;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly acquireTimeoutMs: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly open = new Set<TransactionScope>();
  private drained: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(driver: DatabaseDriver, options: TransactionManagerOptions = {}) {
    if (typeof driver !== 'object' || typeof (driver as Partial<DatabaseDriver>).acquire !== 'function') {
      throw new PersistenceError('INVALID_ARGUMENT', `TransactionManager needs a DatabaseDriver, got ${typeof driver}`);
    }
    this.driver = driver;
    this.isolationLevel = check.oneOf('isolationLevel', options.isolationLevel ?? 'read committed', isolationLevels);
    this.retries = integer('retries', options.retries ?? retryDefaults.retries, 0);
    this.retryInitialDelayMs = integer(
      'retryInitialDelayMs',
      options.retryInitialDelayMs ?? retryDefaults.retryInitialDelayMs,
    );
    this.retryMaxDelayMs = integer('retryMaxDelayMs', options.retryMaxDelayMs ?? retryDefaults.retryMaxDelayMs);
    this.acquireTimeoutMs = integer('acquireTimeoutMs', options.acquireTimeoutMs ?? 10_000, 1);
    this.nestedWaitMs = this.acquireTimeoutMs;
    this.retryPolicy = this.createRetryPolicy(this.retries);
    const logger = check.optionalLogger('logger', options.logger);
    if (logger !== undefined) this.logTo(logger);
  }

  private logTo(logger: Logger): void {
    this.events.on('retry', ({ attempt, delayMs, error }) => {
      logger.debug({ attempt, delayMs, err: error }, `transaction retried after ${errorMessage(error)}`);
    });
    this.events.on('abandoned', ({ id, reason, ageMs }) => {
      logger.warn({ transaction: id, reason, ageMs }, `transaction ${id} abandoned (${reason}) and rolled back`);
    });
    this.events.on('hookError', ({ id, hook, error }) => {
      logger.error({ transaction: id, hook, err: error }, `${hook} hook of transaction ${id} threw`);
    });
  }

  on<K extends keyof TransactionManagerEvents>(
    event: K,
    listener: (payload: TransactionManagerEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /** The open transaction of the current async context (innermost savepoint), if any. */
  current(): Transaction | undefined {
    const scope = this.storage.get();
    return scope?.status === 'active' ? scope : undefined;
  }

  /** Number of outermost transactions holding a connection now. */
  get openTransactions(): number {
    return this.open.size;
  }

  /**
   * Runs `fn` in a transaction and commits when it resolves, rolls back when it throws. Inside
   * another transaction (ambient or `options.parent`) it runs in a savepoint instead.
   */
  async withTransaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    checkArgument.fn('fn', fn);
    validateTransactionOptions(options);
    const parent = options.parent ?? this.current();
    if (parent) {
      checkNestedOptions(parent, options);
      return this.runNested(parent, fn);
    }
    const attributes = {
      ...systemAttributes,
      'db.transaction.isolation_level': options.isolationLevel ?? this.isolationLevel,
    };
    return withSpan(tracer, 'transaction', { attributes }, (span) =>
      this.retrying((attempt) => {
        span?.setAttribute('db.transaction.attempts', attempt);
        return this.runRoot(fn, options, attempt);
      }, options.retries ?? this.retries),
    );
  }

  /**
   * Runs `fn` again after a serialization failure (40001) or a deadlock (40P01), up to `retries`
   * times with the manager's backoff (exponential, full jitter): the loop of `withTransaction`,
   * for work that opens its own transactions (a unit of work). `fn` must be safe to run again.
   */
  retrying<T>(fn: (attempt: number) => Promise<T>, retries: number = this.retries): Promise<T> {
    checkArgument.fn('fn', fn);
    checkArgument.integer('retries', retries, 0);
    const policy = retries === this.retries ? this.retryPolicy : this.createRetryPolicy(retries);
    return policy.execute(({ attempt }) => fn(attempt));
  }

  /** Sends `sql` to the ambient transaction, or runs it on its own (autocommit) outside one. */
  query<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<R>> {
    const scope = this.current();
    return scope ? scope.query<R>(sql, params) : this.driver.query<R>(sql, params);
  }

  /** A {@link Queryable} that always follows the ambient transaction, for repositories built once. */
  get ambient(): Queryable {
    return { query: (sql, params) => this.query(sql, params) };
  }

  /** Runs `fn` with `tx` as the ambient transaction (code inside joins it without a handle). */
  runWith<T>(tx: Transaction, fn: () => T): T {
    if (!(tx instanceof TransactionScope)) {
      throw new PersistenceError('INVALID_ARGUMENT', 'runWith needs a transaction created by this package');
    }
    return this.storage.run(tx, fn);
  }

  /**
   * Begins a transaction that the caller finishes with `commit()`/`rollback()` (unit of work). Inside
   * an ambient transaction it is a savepoint of it. Not retried: the caller owns the control flow.
   */
  async begin(options: TransactionOptions = {}): Promise<TransactionScope> {
    validateTransactionOptions(options);
    const parent = options.parent ?? this.current();
    if (parent) {
      checkNestedOptions(parent, options);
      return this.toScope(parent).openChild();
    }
    return this.beginRoot(options, 1);
  }

  async runNested<T>(parent: Transaction, fn: (tx: Transaction) => Promise<T>): Promise<T> {
    let scope = this.toScope(parent);
    // Asked for a savepoint of a transaction whose savepoint we are inside: stack on the innermost,
    // since savepoints form a stack and waiting for our own enclosing savepoint would never end.
    const ambient = this.storage.get();
    if (ambient?.status === 'active' && ambient !== scope && scope.encloses(ambient)) scope = ambient;
    const child = await scope.openChild();
    let result: T;
    try {
      result = await this.storage.run(child, () => fn(child));
    } catch (error) {
      await child.rollback();
      throw error;
    }
    await child.commit();
    return result;
  }

  async runHooks(
    scope: TransactionScope,
    kind: 'afterCommit' | 'afterRollback',
    hooks: TransactionHook[],
  ): Promise<void> {
    for (const hook of hooks) {
      try {
        // Hooks run outside the finished transaction's context: work they start is its own.
        await this.storage.exit(hook);
      } catch (error) {
        if (this.events.has('hookError')) this.events.emit('hookError', { id: scope.id, hook: kind, error });
        else
          process.emitWarning(`${kind} hook of ${scope.id} threw: ${errorMessage(error)}`, {
            code: 'INFRA_PERSISTENCE_HOOK',
          });
      }
    }
  }

  finished(scope: TransactionScope, error?: unknown): void {
    if (scope.parent) return;
    this.open.delete(scope);
    const durationMs = Date.now() - scope.startedAt;
    if (scope.status === 'committed') {
      if (this.events.has('commit')) this.events.emit('commit', { id: scope.id, attempt: scope.attempt, durationMs });
    } else if (this.events.has('rollback')) {
      this.events.emit('rollback', { id: scope.id, attempt: scope.attempt, durationMs, error });
    }
    if (this.open.size === 0) this.drained?.();
  }

  abandoned(scope: TransactionScope, reason: string): void {
    const payload = { id: scope.id, reason, ageMs: Date.now() - scope.startedAt };
    if (this.events.has('abandoned')) this.events.emit('abandoned', payload);
    else
      process.emitWarning(`Transaction ${scope.id} was abandoned and rolled back: ${reason}`, {
        code: 'INFRA_PERSISTENCE_ABANDONED',
      });
  }

  /**
   * Refuses new transactions, waits up to `timeoutMs` (default 5000) for open ones to finish, then
   * rolls back whatever is still open. Does not close the driver. Idempotent.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const timeoutMs = check.integer('timeoutMs', options.timeoutMs ?? 5000, 0);
    this.closing ??= this.drain(timeoutMs);
    await this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async drain(timeoutMs: number): Promise<void> {
    if (this.open.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all([...this.open].map((scope) => scope.abandon('the transaction manager closed')));
  }

  private async runRoot<T>(
    fn: (tx: Transaction) => Promise<T>,
    options: TransactionOptions,
    attempt: number,
  ): Promise<T> {
    const scope = await this.beginRoot(options, attempt);
    let result: T;
    try {
      result = await this.storage.run(scope, () => fn(scope));
    } catch (error) {
      await scope.rollback();
      throw error;
    }
    if (scope.status !== 'active') {
      throw new PersistenceError(
        'TRANSACTION_CLOSED',
        `Transaction ${scope.id} was ${scope.status} before its function returned`,
      );
    }
    await scope.commit();
    return result;
  }

  private async beginRoot(options: TransactionOptions, attempt: number): Promise<TransactionScope> {
    if (this.closing) throw new PersistenceError('CLOSED', 'The transaction manager is closed');
    const settings = resolveTransactionOptions(options, this.isolationLevel);
    let connection = await this.driver.acquire({ timeoutMs: this.acquireTimeoutMs });
    for (let tries = 1; ; tries++) {
      try {
        await connection.query(beginStatement(settings));
        if (settings.statementTimeoutMs !== undefined) {
          await connection.query(`SET LOCAL statement_timeout = ${settings.statementTimeoutMs}`);
        }
        break;
      } catch (error) {
        connection.release(true);
        // A pooled connection can die while idle (a network cut, a server restart) before the pool
        // hears of it. Nothing ran on it yet: take another one, once.
        if (tries > 1 || !isPersistenceError(error, 'CONNECTION_LOST')) throw error;
        connection = await this.driver.acquire({ timeoutMs: this.acquireTimeoutMs });
      }
    }
    const scope = new TransactionScope(this, connection, settings, attempt);
    this.open.add(scope);
    return scope;
  }

  private toScope(tx: Transaction): TransactionScope {
    if (!isTransaction(tx) || !(tx instanceof TransactionScope)) {
      throw new PersistenceError('INVALID_ARGUMENT', 'parent must be a transaction created by this package');
    }
    return tx;
  }

  private createRetryPolicy(retries: number): RetryPolicy {
    const policy = new RetryPolicy({
      maxAttempts: retries + 1,
      initialDelayMs: this.retryInitialDelayMs,
      maxDelayMs: this.retryMaxDelayMs,
      jitter: 'full',
      shouldRetry: (error) => findErrorCode(error, retryableCodes) !== undefined,
    });
    policy.onRetry((payload) => {
      if (this.events.has('retry')) this.events.emit('retry', payload);
    });
    return policy;
  }
}
