import { register } from 'node:module';
import { describe, expect, it } from 'vitest';

// `pg` fails to load here, as it would when not installed: Node's resolver refuses it (a vi.mock
// factory cannot, vitest wraps its error). Each test file runs in a process of its own.
const hook = `
export async function resolve(specifier, context, next) {
  if (/^pg$|\\/node_modules\\/pg\\//.test(specifier)) {
    const error = new Error("Cannot find package 'pg' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

describe('pg as an optional peer', () => {
  it('is not loaded by importing the entry point, and is named in MISSING_PEER when a pool is needed', async () => {
    const { createPostgresAdapter } = await import('./index.js');
    expect(createPostgresAdapter).toBeTypeOf('function');
    await expect(createPostgresAdapter({ connectionString: 'postgres://127.0.0.1/test' })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('npm install pg'),
    });
  });
});
