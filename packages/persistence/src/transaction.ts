import type { DriverConnection, QueryParams, QueryResult, Queryable } from './driver.js';
import { PersistenceError, isPersistenceError } from './errors.js';
import { Mutex } from './mutex.js';
import type { IsolationLevel, ResolvedTransactionOptions } from './transaction-options.js';
import { checkArgument } from './validate.js';

/**
 * `committed`: committed (for a savepoint: released into its parent); `unknown`: the connection
 * was lost during COMMIT, so whether it committed cannot be known.
 */
export type TransactionStatus = 'active' | 'committed' | 'rolledBack' | 'unknown';

export type TransactionHook = () => void | Promise<void>;

/** The handle a transaction's work runs on; also reachable as the ambient transaction. */
export interface Transaction extends Queryable {
  /** `t12` for a transaction, `t12.1` for its first savepoint, … */
  readonly id: string;
  /** 0 for the outermost transaction, 1 for a savepoint in it, … */
  readonly depth: number;
  /** 1-based attempt of the outermost transaction (retries after serialization failures). */
  readonly attempt: number;
  readonly isolationLevel: IsolationLevel;
  readonly readOnly: boolean;
  readonly status: TransactionStatus;
  /**
   * Runs `hook` once after the outermost transaction commits (never when it, or this savepoint,
   * rolls back). Hooks run in registration order after the connection is released.
   */
  afterCommit(hook: TransactionHook): void;
  /** Runs `hook` once when this transaction (or savepoint) or an enclosing one rolls back. */
  afterRollback(hook: TransactionHook): void;
  /** Makes the end of this transaction a rollback even when its function succeeds. */
  setRollbackOnly(): void;
  /** Runs `fn` in a savepoint of this transaction. */
  withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

/** What a transaction needs from the manager that created it. */
export interface TransactionHost {
  readonly nestedWaitMs: number;
  runNested<T>(parent: Transaction, fn: (tx: Transaction) => Promise<T>): Promise<T>;
  runHooks(scope: TransactionScope, kind: 'afterCommit' | 'afterRollback', hooks: TransactionHook[]): Promise<void>;
  finished(scope: TransactionScope, error?: unknown): void;
  abandoned(scope: TransactionScope, reason: string): void;
}

const scopeMarker = Symbol.for('@infra/persistence.transaction');
let sequence = 0;

export function isTransaction(value: unknown): value is Transaction {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[scopeMarker] === true;
}

/** A transaction or savepoint on one leased connection. Created by the transaction manager. */
export class TransactionScope implements Transaction {
  readonly id: string;
  readonly depth: number;
  readonly attempt: number;
  readonly isolationLevel: IsolationLevel;
  readonly readOnly: boolean;
  readonly parent: TransactionScope | undefined;
  readonly startedAt: number = Date.now();
  /** Set when a statement failed: Postgres refuses everything but ROLLBACK until then. */
  aborted = false;
  private rollbackOnly = false;
  private state: TransactionStatus = 'active';
  private commitHooks: TransactionHook[] = [];
  private rollbackHooks: TransactionHook[] = [];
  private childLock: Mutex | undefined;
  private activeChild: TransactionScope | undefined;
  private children = 0;
  private readonly savepoint: string | undefined;

  constructor(
    private readonly host: TransactionHost,
    private readonly connection: DriverConnection,
    settings: ResolvedTransactionOptions,
    attempt: number,
    parent?: TransactionScope,
    private readonly releaseParent?: () => void,
  ) {
    this.parent = parent;
    this.depth = parent ? parent.depth + 1 : 0;
    this.attempt = attempt;
    this.isolationLevel = settings.isolationLevel;
    this.readOnly = settings.readOnly;
    if (parent) {
      parent.children += 1;
      this.id = `${parent.id}.${parent.children}`;
      this.savepoint = `sp_${this.id.slice(this.id.indexOf('.') + 1).replaceAll('.', '_')}`;
    } else {
      this.id = `t${++sequence}`;
    }
  }

  get status(): TransactionStatus {
    return this.state;
  }

  get settings(): ResolvedTransactionOptions {
    return {
      isolationLevel: this.isolationLevel,
      readOnly: this.readOnly,
      deferrable: false,
      statementTimeoutMs: undefined,
    };
  }

  async query<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<R>> {
    this.assertActive();
    try {
      return await this.connection.query<R>(sql, params);
    } catch (error) {
      this.aborted = true;
      throw error;
    }
  }

  afterCommit(hook: TransactionHook): void {
    checkArgument.fn('hook', hook);
    this.assertActive();
    this.commitHooks.push(hook);
  }

  afterRollback(hook: TransactionHook): void {
    checkArgument.fn('hook', hook);
    this.assertActive();
    this.rollbackHooks.push(hook);
  }

  setRollbackOnly(): void {
    this.assertActive();
    this.rollbackOnly = true;
  }

  withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.host.runNested(this, fn);
  }

  /** True when `scope` is this transaction or one of its (open) savepoints. */
  encloses(scope: TransactionScope): boolean {
    for (let current: TransactionScope | undefined = scope; current; current = current.parent) {
      if (current === this) return true;
    }
    return false;
  }

  /** Opens a savepoint. Savepoints of one transaction are a stack, so siblings wait their turn. */
  async openChild(): Promise<TransactionScope> {
    this.assertActive();
    this.childLock ??= new Mutex();
    const waitMs = this.host.nestedWaitMs;
    const release = await this.childLock.acquire(
      waitMs,
      () =>
        new PersistenceError(
          'TRANSACTION_BUSY',
          `Transaction ${this.id} still had savepoint ${this.activeChild?.id ?? '?'} open after ${waitMs} ms: savepoints of one ` +
            'transaction run one at a time; finish the open one, or nest the new work inside it',
        ),
    );
    try {
      this.assertActive();
      const child = new TransactionScope(this.host, this.connection, this.settings, this.attempt, this, release);
      await this.query(`SAVEPOINT ${child.savepoint ?? ''}`);
      this.activeChild = child;
      return child;
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Commits (releases a savepoint). On a rollback-only transaction, rolls back instead. */
  async commit(): Promise<void> {
    this.assertActive();
    await this.abandonOpenChild();
    if (this.rollbackOnly) {
      await this.rollback();
      return;
    }
    if (this.aborted) {
      await this.rollback();
      throw new PersistenceError(
        'TRANSACTION_ABORTED',
        `Transaction ${this.id} was rolled back instead of committed: one of its statements failed and the error was caught`,
      );
    }
    if (this.parent) await this.releaseSavepoint(this.parent);
    else await this.commitRoot();
  }

  /** Rolls back (to the savepoint, for a nested transaction). Never throws: a broken connection is discarded. */
  async rollback(): Promise<void> {
    if (this.state !== 'active') return;
    await this.abandonOpenChild();
    if (this.parent) {
      const parent = this.parent;
      try {
        await this.connection.execute(
          `ROLLBACK TO SAVEPOINT ${this.savepoint ?? ''}; RELEASE SAVEPOINT ${this.savepoint ?? ''}`,
        );
      } catch {
        // The enclosing transaction cannot recover from this; it will roll back too.
        parent.aborted = true;
      }
      this.finishChild(parent, 'rolledBack');
      await this.host.runHooks(this, 'afterRollback', this.takeHooks().rollback);
      return;
    }
    let discard = this.connection.broken;
    if (!discard) {
      try {
        await this.connection.query('ROLLBACK');
      } catch {
        discard = true;
      }
    }
    this.state = 'rolledBack';
    this.connection.release(discard);
    this.host.finished(this);
    await this.host.runHooks(this, 'afterRollback', this.takeHooks().rollback);
  }

  /** Rolls back a transaction found still open by a deadline, a collector or its parent's end. */
  async abandon(reason: string): Promise<boolean> {
    if (this.state !== 'active') return false;
    await this.rollback();
    this.host.abandoned(this, reason);
    return true;
  }

  private async commitRoot(): Promise<void> {
    try {
      await this.connection.query('COMMIT');
    } catch (error) {
      const lost = isPersistenceError(error, 'CONNECTION_LOST');
      this.state = lost ? 'unknown' : 'rolledBack';
      this.connection.release(true);
      this.host.finished(this, error);
      if (lost) {
        throw new PersistenceError(
          'CONNECTION_LOST',
          `Connection lost during COMMIT of ${this.id}: whether it committed is unknown, so no hook ran`,
          { cause: error, isRetryable: false },
        );
      }
      // Postgres rolled the transaction back when COMMIT failed (serialization, deferred constraint).
      await this.host.runHooks(this, 'afterRollback', this.takeHooks().rollback);
      throw error;
    }
    this.state = 'committed';
    this.connection.release();
    this.host.finished(this);
    await this.host.runHooks(this, 'afterCommit', this.takeHooks().commit);
  }

  private async releaseSavepoint(parent: TransactionScope): Promise<void> {
    try {
      await this.connection.query(`RELEASE SAVEPOINT ${this.savepoint ?? ''}`);
    } catch (error) {
      parent.aborted = true;
      this.finishChild(parent, 'rolledBack');
      await this.host.runHooks(this, 'afterRollback', this.takeHooks().rollback);
      throw error;
    }
    this.finishChild(parent, 'committed');
    // A released savepoint's work now lives or dies with its parent, and so do its hooks.
    const hooks = this.takeHooks();
    parent.commitHooks.push(...hooks.commit);
    parent.rollbackHooks.push(...hooks.rollback);
  }

  private finishChild(parent: TransactionScope, state: TransactionStatus): void {
    this.state = state;
    if (parent.activeChild === this) parent.activeChild = undefined;
    this.releaseParent?.();
  }

  private async abandonOpenChild(): Promise<void> {
    const child = this.activeChild;
    if (child?.state === 'active') await child.abandon(`its parent ${this.id} ended while it was still open`);
  }

  private takeHooks(): { commit: TransactionHook[]; rollback: TransactionHook[] } {
    const hooks = { commit: this.commitHooks, rollback: this.rollbackHooks };
    this.commitHooks = [];
    this.rollbackHooks = [];
    return hooks;
  }

  private assertActive(): void {
    if (this.state !== 'active') {
      throw new PersistenceError(
        'TRANSACTION_CLOSED',
        `Transaction ${this.id} is ${this.state}; it can no longer be used`,
      );
    }
  }
}

Object.defineProperty(TransactionScope.prototype, scopeMarker, { value: true });
