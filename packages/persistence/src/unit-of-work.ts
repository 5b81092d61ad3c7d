import { PersistenceError } from './errors.js';
import type { RegisteredRepositories, RepositoryRegistry } from './repository.js';
import type { TransactionManager } from './transaction-manager.js';
import type { TransactionOptions } from './transaction-options.js';
import type { Transaction, TransactionHook, TransactionScope } from './transaction.js';
import { integer, plainObject } from './validate.js';

export type UnitOfWorkState = 'new' | 'active' | 'committed' | 'rolledBack';

export interface UnitOfWorkOptions {
  /** Options of the transaction `begin()` starts. @default the manager's defaults */
  transaction?: TransactionOptions;
  /**
   * A unit of work still open after this long (ms) is rolled back and reported as abandoned, so a
   * forgotten one cannot hold a connection and its locks forever. 0 disables the deadline (the
   * garbage-collection check still applies). @default 60_000
   */
  timeoutMs?: number;
}

/** Options of `runUnitOfWork`. */
export interface RunUnitOfWorkOptions extends UnitOfWorkOptions {
  /**
   * Runs of the whole unit of work after a serialization failure or a deadlock, with the
   * manager's backoff. `fn` runs again from the start, in a new unit of work: it must be safe
   * to repeat. @default the persistence's `retries` (10)
   */
  retries?: number;
}

/** What the deadline and the collector may touch: never the unit of work itself, so it can be collected. */
interface Held {
  scope: TransactionScope | undefined;
  timer: NodeJS.Timeout | undefined;
}

function abandon(held: Held, reason: string): void {
  clearTimeout(held.timer);
  held.timer = undefined;
  collector.unregister(held);
  held.scope?.abandon(reason).catch(() => undefined);
}

const collector = new FinalizationRegistry<Held>((held) => {
  abandon(held, 'the unit of work was garbage-collected without commit() or rollback()');
});

/**
 * One business transaction: `begin()`, repositories bound to it with `getRepository(name)`, then
 * `commit()` or `rollback()`. Inside an ambient transaction it is a savepoint of it.
 */
export class UnitOfWork<R extends object = RegisteredRepositories> {
  private current: UnitOfWorkState = 'new';
  private busy = false;
  private abandonedBy: string | undefined;
  private readonly held: Held = { scope: undefined, timer: undefined };
  private readonly repositories = new Map<string, unknown>();
  private readonly timeoutMs: number;

  constructor(
    private readonly manager: TransactionManager,
    private readonly registry: RepositoryRegistry<R>,
    private readonly options: UnitOfWorkOptions = {},
  ) {
    plainObject('options', options, 'INVALID_ARGUMENT');
    this.timeoutMs = integer('timeoutMs', options.timeoutMs ?? 60_000);
  }

  get state(): UnitOfWorkState {
    return this.current;
  }

  /** The transaction of an active unit of work (for `addToOutbox`, hooks, or raw SQL). */
  get transaction(): Transaction {
    return this.activeScope('use its transaction');
  }

  async begin(options?: TransactionOptions): Promise<void> {
    if (this.current !== 'new' || this.busy) {
      throw new PersistenceError(
        this.current === 'new' || this.current === 'active' ? 'UOW_ALREADY_BEGUN' : 'UOW_FINISHED',
        `Cannot begin a unit of work that is ${this.busy ? 'beginning' : this.current}`,
      );
    }
    this.busy = true;
    try {
      const scope = await this.manager.begin({ ...this.options.transaction, ...options });
      this.held.scope = scope;
      this.current = 'active';
      collector.register(this, this.held, this.held);
      // The timer must not capture `this`, or the collector could never reclaim a forgotten unit of work.
      const { held, timeoutMs } = this;
      if (timeoutMs > 0) {
        held.timer = setTimeout(() => {
          abandon(held, `the unit of work was still open after ${timeoutMs} ms`);
        }, timeoutMs);
        held.timer.unref();
      }
    } finally {
      this.busy = false;
    }
  }

  /** Repository `name`, bound to this unit of work's transaction (one instance per unit of work). */
  getRepository<K extends keyof R & string>(name: K): R[K] {
    const scope = this.activeScope(`get repository ${JSON.stringify(name)}`);
    if (!this.repositories.has(name)) this.repositories.set(name, this.registry.create(name, scope));
    return this.repositories.get(name) as R[K];
  }

  afterCommit(hook: TransactionHook): void {
    this.activeScope('register a hook').afterCommit(hook);
  }

  afterRollback(hook: TransactionHook): void {
    this.activeScope('register a hook').afterRollback(hook);
  }

  /** Runs `fn` with this unit of work's transaction as the ambient one. */
  run<T>(fn: () => T): T {
    return this.manager.runWith(this.activeScope('run work in it'), fn);
  }

  async commit(): Promise<void> {
    const scope = this.activeScope('commit');
    this.busy = true;
    this.settle();
    try {
      await scope.commit();
    } finally {
      this.current = scope.status === 'committed' ? 'committed' : 'rolledBack';
      this.busy = false;
    }
  }

  /**
   * Rolls back. Safe to call after a failed `begin()` or `commit()` (then it does nothing), so the
   * usual `catch { await unitOfWork.rollback(); throw error; }` never hides the first error.
   */
  async rollback(): Promise<void> {
    if (this.current === 'committed') {
      throw new PersistenceError('UOW_FINISHED', 'Cannot roll back a unit of work that already committed');
    }
    if (this.busy)
      throw new PersistenceError('UOW_FINISHED', 'Cannot roll back a unit of work while it is beginning or committing');
    if (this.current !== 'active') {
      this.current = 'rolledBack';
      return;
    }
    const scope = this.held.scope;
    this.settle();
    this.current = 'rolledBack';
    await scope?.rollback();
  }

  private settle(): void {
    clearTimeout(this.held.timer);
    this.held.timer = undefined;
    collector.unregister(this.held);
  }

  private activeScope(action: string): TransactionScope {
    const scope = this.held.scope;
    if (this.current === 'active' && !this.busy && scope) {
      if (scope.status === 'active') return scope;
      // Rolled back behind our back: by the deadline, or because its enclosing transaction ended.
      this.current = 'rolledBack';
      this.abandonedBy = 'it was abandoned (deadline or enclosing transaction ended) and rolled back';
    }
    if (this.abandonedBy !== undefined) {
      throw new PersistenceError('UOW_ABANDONED', `Cannot ${action}: ${this.abandonedBy}`);
    }
    if (this.current === 'new' || this.busy) {
      throw new PersistenceError(
        'UOW_NOT_ACTIVE',
        `Cannot ${action}: the unit of work is not active (call begin() first and wait for it)`,
      );
    }
    throw new PersistenceError(
      'UOW_FINISHED',
      `Cannot ${action}: the unit of work already ${this.current === 'committed' ? 'committed' : 'rolled back'}`,
    );
  }
}
