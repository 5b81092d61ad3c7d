import { describe, expect, it, vi } from 'vitest';

// Both peers fail to load here, as they would when not installed.
vi.mock('pg', () => {
  throw new Error('Cannot find package "pg"');
});
vi.mock('@electric-sql/pglite', () => {
  throw new Error('Cannot find package "@electric-sql/pglite"');
});

describe('optional peers', () => {
  it('are not loaded by importing any entry point', async () => {
    const root = await import('./index.js');
    const pgEntry = await import('./pg/index.js');
    const pgliteEntry = await import('./pglite/index.js');
    const testing = await import('./testing/index.js');
    expect(root.createUnitOfWork).toBeTypeOf('function');
    expect(pgEntry.createPgDriver).toBeTypeOf('function');
    expect(pgliteEntry.createPgliteDriver).toBeTypeOf('function');
    expect(testing.withRollback).toBeTypeOf('function');
  });

  it('fail with MISSING_PEER naming the package when a client must be created', async () => {
    const { createPgDriver } = await import('./pg/index.js');
    const { createPgliteDriver } = await import('./pglite/index.js');
    const { Persistence } = await import('./index.js');
    await expect(createPgDriver({ connectionString: 'postgres://127.0.0.1/x' })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('npm install pg'),
    });
    await expect(createPgliteDriver()).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('"@electric-sql/pglite"'),
    });
    await expect(new Persistence({}, {}).start()).rejects.toMatchObject({ code: 'MISSING_PEER' });
  });
});
