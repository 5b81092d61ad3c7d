import { register } from 'node:module';
import { describe, expect, it } from 'vitest';

// The optional peers are not installed here: Node's resolver refuses them as it would if they were
// absent (a vi.mock factory cannot: vitest wraps its error). Each test file runs in a process of
// its own, so no other test sees the hook.
const hook = `
const peers = [
  ['pg', /^pg$|\\/node_modules\\/pg\\//],
  ['@electric-sql/pglite', /^@electric-sql\\/pglite$|\\/node_modules\\/@electric-sql\\/pglite\\//],
];
export async function resolve(specifier, context, next) {
  for (const [name, pattern] of peers) {
    if (pattern.test(specifier)) {
      const error = new Error("Cannot find package '" + name + "' imported from " + context.parentURL);
      error.code = 'ERR_MODULE_NOT_FOUND';
      throw error;
    }
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

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
