import { databaseUrl, eventually } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountRepository, accountsSchema, documentedTransferFunds } from '../test/accounts.js';
import { admin, createSchema } from '../test/databases.js';
import {
  closePersistence,
  configurePersistence,
  createUnitOfWork,
  getPersistence,
  withTransaction,
} from './default-persistence.js';
import { Persistence } from './persistence.js';
import { resolvePersistenceOptions } from './persistence-options.js';

describe('resolvePersistenceOptions', () => {
  it('fills in defaults and picks PGlite without a connection string', () => {
    const options = resolvePersistenceOptions({}, {});
    expect(options).toMatchObject({
      driverKind: 'pglite',
      poolSize: 10,
      connectTimeoutMs: 5000,
      acquireTimeoutMs: 10_000,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 60_000,
      queryTimeoutMs: 0,
      isolationLevel: 'read committed',
      retries: 20,
      unitOfWorkTimeoutMs: 60_000,
    });
  });

  it('switches to pg when DATABASE_URL is set', () => {
    expect(resolvePersistenceOptions({}, { DATABASE_URL: 'postgres://u@h/db' })).toMatchObject({
      driverKind: 'pg',
      connectionString: 'postgres://u@h/db',
    });
  });

  it('names the bad option or variable and never echoes a connection string', () => {
    expect(() => resolvePersistenceOptions({}, { DATABASE_URL: 'mysql://u:secret@h/db' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        option: 'DATABASE_URL',
        message: expect.not.stringContaining('secret'),
      }),
    );
    expect(() => resolvePersistenceOptions({ poolSize: 0 }, {})).toThrow(
      expect.objectContaining({ option: 'poolSize' }),
    );
    expect(() => resolvePersistenceOptions({ queryTimeoutMs: -1 }, {})).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'queryTimeoutMs' }),
    );
    expect(() => resolvePersistenceOptions({ statementTimeoutMs: -5 }, {})).toThrow(
      expect.objectContaining({ option: 'statementTimeoutMs' }),
    );
    expect(() => resolvePersistenceOptions({ idleInTransactionTimeoutMs: 1.5 }, {})).toThrow(
      expect.objectContaining({ option: 'idleInTransactionTimeoutMs' }),
    );
    expect(() => resolvePersistenceOptions({ retryInitialDelayMs: 50, retryMaxDelayMs: 10 }, {})).toThrow(
      expect.objectContaining({ option: 'retryMaxDelayMs' }),
    );
    expect(() => resolvePersistenceOptions({ driver: {} as never }, {})).toThrow(
      expect.objectContaining({ option: 'driver' }),
    );
    expect(() => new Persistence({ repositories: { account: 'nope' as never } }, {})).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', option: 'repositories.account' }),
    );
  });
});

describe('default persistence (the documented usage, as written)', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;

  beforeAll(async () => {
    schema = await createSchema('default_persistence');
  });

  afterAll(async () => {
    await closePersistence();
    await schema.drop();
  });

  it('refuses to work before it is configured', async () => {
    await expect(createUnitOfWork()).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
    expect(() => getPersistence()).toThrow(expect.objectContaining({ code: 'NOT_CONFIGURED' }));
  });

  it('runs the documented transfer through createUnitOfWork() with no argument', async () => {
    const persistence = configurePersistence({
      connectionString: databaseUrl,
      searchPath: schema.schema,
      poolSize: 3,
      healthTimeoutMs: 60_000,
      repositories: { account: (tx) => new AccountRepository(tx) },
    });
    expect(() => configurePersistence({})).toThrow(expect.objectContaining({ code: 'ALREADY_CONFIGURED' }));
    await persistence.query(accountsSchema.replace(';', ''));
    await persistence.query('INSERT INTO accounts VALUES (1, 100), (2, 100)');

    const transferFunds = documentedTransferFunds(() => createUnitOfWork<{ account: AccountRepository }>());

    await expect(transferFunds(1, 2, 25)).resolves.toEqual({ success: true });
    const rows = await withTransaction(
      async (tx) => (await tx.query('SELECT id, balance FROM accounts ORDER BY id')).rows,
    );
    expect(rows).toEqual([
      { id: 1, balance: 75 },
      { id: 2, balance: 125 },
    ]);
    await expect(persistence.healthCheck()).resolves.toMatchObject({ status: 'pass', componentId: 'pg' });
  });

  it('closes what it created and refuses work afterwards', async () => {
    const persistence = getPersistence();
    const driver = persistence.driver;
    await closePersistence();
    await closePersistence();
    await expect(driver.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(persistence.start()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(createUnitOfWork()).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
  });
});

describe('Persistence on a pool it creates', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;

  beforeAll(async () => {
    schema = await createSchema('persistence_pool');
  });

  afterAll(async () => {
    await schema.drop();
  });

  it('reports a pooled connection that fails while idle on its error event, and carries on', async () => {
    await using persistence = new Persistence({ connectionString: databaseUrl, searchPath: schema.schema }, {});
    const errors: unknown[] = [];
    persistence.on('error', ({ error }) => errors.push(error));
    const { rows } = await persistence.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // The connection went back to the pool, idle; the server ends its session.
    await admin('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await eventually(() => errors.length > 0, 30_000);
    expect(errors[0]).toMatchObject({ code: '57P01' });
    expect((await persistence.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('closes with close({ timeoutMs }) or await using, then refuses work', async () => {
    let closed: Persistence | undefined;
    {
      await using persistence = new Persistence({ connectionString: databaseUrl, searchPath: schema.schema }, {});
      await persistence.query('SELECT 1');
      closed = persistence;
    }
    await expect(closed.start()).rejects.toMatchObject({ code: 'CLOSED' });
    const other = new Persistence({ connectionString: databaseUrl, searchPath: schema.schema }, {});
    await expect(other.close({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'timeoutMs' });
    await other.close({ timeoutMs: 1000 });
    await other.close();
  });
});

describe('Persistence with no configuration', () => {
  it('runs on an embedded PGlite database', async () => {
    // No driver, no connection string: only a health probe patient enough for a busy machine.
    const persistence = new Persistence({ healthTimeoutMs: 60_000 }, {});
    try {
      const events: string[] = [];
      persistence.on('commit', () => events.push('commit'));
      const manager = await persistence.start();
      expect(manager.driver.name).toBe('pglite');
      const rows = await persistence.withTransaction(async (tx) => (await tx.query('SELECT 40 + 2 AS answer')).rows);
      expect(rows).toEqual([{ answer: 42 }]);
      expect(events).toEqual(['commit']);
      await expect(persistence.healthCheck()).resolves.toMatchObject({
        status: 'pass',
        componentId: 'pglite',
        pool: { max: 1 },
      });
    } finally {
      await persistence.close();
    }
  });
});
