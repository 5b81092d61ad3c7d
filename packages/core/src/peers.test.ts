import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { loadOptionalPeer } from './index.js';
import { isNotFound } from './peers.js';

const missing = (message: string, cause: unknown): Error =>
  Object.assign(new Error(message, { cause }), { code: 'MISSING_PEER' });

describe('loadOptionalPeer', () => {
  it('returns the module when it is installed', async () => {
    const mod = await loadOptionalPeer('node:path', 'Test', () => import('node:path'), missing);
    expect(typeof mod.join).toBe('function');
  });

  it('names the package to install when it is missing', async () => {
    const specifier = '@infra/surely-not-installed';
    const load = (): Promise<unknown> => import(specifier);
    await expect(loadOptionalPeer('@infra/surely-not-installed', 'Widget', load, missing)).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('npm install @infra/surely-not-installed') as unknown,
    });
  });

  it('rethrows any other failure of the import as it is', async () => {
    const broken = new SyntaxError('Unexpected token');
    await expect(loadOptionalPeer('x', 'Widget', () => Promise.reject(broken), missing)).rejects.toBe(broken);
  });
});

describe('isNotFound', () => {
  it("recognises require()'s error for a missing package, as the tracing helpers load the API", () => {
    let error: unknown;
    try {
      createRequire(import.meta.url)('@infra/surely-not-installed');
    } catch (thrown) {
      error = thrown;
    }
    expect(isNotFound(error, '@infra/surely-not-installed')).toBe(true);
    expect(isNotFound(error, '@opentelemetry/api')).toBe(false);
    expect(isNotFound(new Error('boom'), '@infra/surely-not-installed')).toBe(false);
  });
});
