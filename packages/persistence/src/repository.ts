import type { QueryParams, Queryable } from './driver.js';
import { InvalidOptionError, PersistenceError } from './errors.js';
import type { Transaction } from './transaction.js';
import { checkArgument, nonEmptyString } from './validate.js';

/** Builds a repository whose SQL runs on `db` (a unit of work's transaction, or any transaction). */
export type RepositoryFactory<T> = (db: Transaction) => T;

/** One factory per repository name. */
export type RepositoryFactories<R> = { [K in keyof R]: RepositoryFactory<R[K]> };

/**
 * Augment this interface to type the repositories of the default persistence:
 * `declare module '@infra/persistence' { interface RepositoryTypes { account: AccountRepository } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by applications through declaration merging
export interface RepositoryTypes {}

/** The repository map of the default persistence: {@link RepositoryTypes} once augmented, else untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- repositories are untyped until the application augments RepositoryTypes
export type RegisteredRepositories = keyof RepositoryTypes extends never ? Record<string, any> : RepositoryTypes;

/**
 * Base of application repositories: the application writes the SQL, this class only carries the
 * connection the repository was bound to (not an ORM).
 */
export abstract class Repository {
  protected readonly db: Queryable;

  constructor(db: Queryable) {
    if (typeof (db as Partial<Queryable> | null)?.query !== 'function') {
      throw new InvalidOptionError('db', db, 'a transaction or another object with query()', 'INVALID_ARGUMENT');
    }
    this.db = db;
  }

  /** All rows of a query. */
  protected async many<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<R[]> {
    return (await this.db.query<R>(sql, params)).rows;
  }

  /** The only row of a query, or `null` when there is none (more than one is a `QUERY_FAILED` error). */
  protected async maybeOne<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<R | null> {
    const { rows } = await this.db.query<R>(sql, params);
    if (rows.length > 1) {
      throw new PersistenceError('QUERY_FAILED', `Expected at most one row, got ${rows.length}: ${sql.slice(0, 120)}`);
    }
    return rows[0] ?? null;
  }

  /** Runs a statement and returns the number of rows it affected. */
  protected async execute(sql: string, params?: QueryParams): Promise<number> {
    return (await this.db.query(sql, params)).rowCount;
  }
}

/** Repository factories by name; a unit of work builds its repositories from here. */
export class RepositoryRegistry<R extends object = RegisteredRepositories> {
  private readonly factories = new Map<string, RepositoryFactory<unknown>>();

  constructor(factories?: Partial<RepositoryFactories<R>>) {
    if (factories === undefined) return;
    if (typeof factories !== 'object' || (factories as unknown) === null) {
      throw new InvalidOptionError('repositories', factories, 'an object of repository factories');
    }
    for (const [name, factory] of Object.entries(factories))
      this.register(name as keyof R & string, factory as RepositoryFactory<R[keyof R & string]>);
  }

  /** Registers a factory under `name`; registering a name twice is an error. */
  register<K extends keyof R & string>(name: K, factory: RepositoryFactory<R[K]>): this {
    nonEmptyString('name', name, 'INVALID_ARGUMENT');
    checkArgument.fn(`repositories.${name}`, factory);
    if (this.factories.has(name)) {
      throw new InvalidOptionError('name', name, 'a repository name not registered yet', 'INVALID_ARGUMENT');
    }
    this.factories.set(name, factory);
    return this;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  names(): string[] {
    return [...this.factories.keys()];
  }

  /** Builds repository `name` bound to `db`. */
  create<K extends keyof R & string>(name: K, db: Transaction): R[K] {
    const factory = this.factories.get(name);
    if (!factory) {
      const known = this.names();
      throw new PersistenceError(
        'REPOSITORY_NOT_FOUND',
        `No repository named ${JSON.stringify(name)} is registered (registered: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
    return factory(db) as R[K];
  }
}
