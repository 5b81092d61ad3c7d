import { describe, expect, it } from 'vitest';
import { isDataSubpath, listSubpaths } from './exports-map.js';

describe('listSubpaths', () => {
  it('lists every subpath with the files Node and TypeScript resolve for an import', () => {
    const entries = listSubpaths(
      '@infra/x',
      {
        '.': { types: './dist/index.d.ts', import: './dist/index.js' },
        './redis': { import: { types: './dist/redis.d.ts', default: './dist/redis.js' } },
        './package.json': './package.json',
      },
      [],
    );
    expect(entries).toEqual([
      { subpath: '.', specifier: '@infra/x', importTarget: './dist/index.js', typesTarget: './dist/index.d.ts' },
      {
        subpath: './redis',
        specifier: '@infra/x/redis',
        importTarget: './dist/redis.js',
        typesTarget: './dist/redis.d.ts',
      },
      {
        subpath: './package.json',
        specifier: '@infra/x/package.json',
        importTarget: './package.json',
        typesTarget: undefined,
      },
    ]);
    expect(entries.map(isDataSubpath)).toEqual([false, false, true]);
  });

  it('takes the declaration beside the JavaScript file when no types condition is given', () => {
    const [entry] = listSubpaths('pkg', { '.': { import: './lib/main.mjs' } }, []);
    expect(entry?.typesTarget).toBe('./lib/main.d.mts');
  });

  it('ignores conditions Node does not use for import from ESM', () => {
    const [entry] = listSubpaths('pkg', { '.': { require: './index.cjs', browser: './browser.js' } }, []);
    expect(entry?.importTarget).toBeUndefined();
  });

  it('treats a string or a conditions object as the root export', () => {
    expect(listSubpaths('pkg', './index.js', [])[0]).toMatchObject({
      subpath: '.',
      importTarget: './index.js',
      typesTarget: './index.d.ts',
    });
    expect(listSubpaths('pkg', { import: './a.js' }, [])[0]).toMatchObject({ subpath: '.', importTarget: './a.js' });
  });

  it('expands wildcard keys against the packed files and drops keys mapped to null', () => {
    const files = [
      'dist/drivers/redis.js',
      'dist/drivers/redis.d.ts',
      'dist/drivers/memory.js',
      'dist/drivers/internal.js',
      'README.md',
    ];
    const entries = listSubpaths(
      'store',
      {
        './drivers/*': { types: './dist/drivers/*.d.ts', import: './dist/drivers/*.js' },
        './drivers/internal': null,
      },
      files,
    );
    expect(entries.map((entry) => [entry.specifier, entry.importTarget, entry.typesTarget])).toEqual([
      ['store/drivers/redis', './dist/drivers/redis.js', './dist/drivers/redis.d.ts'],
      ['store/drivers/memory', './dist/drivers/memory.js', './dist/drivers/memory.d.ts'],
    ]);
  });

  it('refuses a package without an exports map, and a map mixing subpaths and conditions', () => {
    expect(() => listSubpaths('pkg', undefined, [])).toThrow(/pkg has no "exports" map/);
    expect(() => listSubpaths('pkg', { '.': './a.js', import: './b.js' }, [])).toThrow(
      /mixes subpaths and conditions: \., import/,
    );
    expect(() => listSubpaths('', {}, [])).toThrow(/packageName must be a non-empty string/);
  });
});
