import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/** Every module a file loads at run time, following relative imports (type-only imports are erased). */
function runtimeImports(entry: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(entry)) return seen;
  const source = readFileSync(entry, 'utf8');
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
  ].map((m) => m[1]!);
  const dynamic = [...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => `dynamic:${m[1]!}`);
  seen.set(entry, [...specifiers, ...dynamic]);
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) runtimeImports(resolve(dirname(entry), specifier.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

function bareImports(entry: string): Set<string> {
  const all = new Set<string>();
  for (const specifiers of runtimeImports(entry).values())
    for (const s of specifiers) if (!s.startsWith('.')) all.add(s);
  return all;
}

describe('entry points', () => {
  it('"@infra/api" loads nothing but Node built-ins and @infra/core', () => {
    const imports = [...bareImports(join(here, 'index.ts'))];
    expect(imports.filter((s) => !s.startsWith('node:'))).toEqual(['@infra/core']);
  });

  it('"@infra/api/fastify" loads @infra/core and fastify-plugin only, and its peers only through import()', () => {
    const imports = [...bareImports(join(here, 'fastify', 'index.ts'))].filter((s) => !s.startsWith('node:')).sort();
    expect(imports).toEqual([
      '@infra/core',
      'dynamic:@fastify/cors',
      'dynamic:@fastify/swagger',
      'dynamic:@fastify/swagger-ui',
      'fastify-plugin',
    ]);
  });
});
