// The checker against tiny packages made on the spot: one sound, and one per defect it must
// catch. Each defect must produce a failure that names the package and the subpath.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsumer, type ConsumerCheckReport } from './consumer-check.js';
import { packPackage } from './pack.js';

// The ioredis the workspace tests with, so the fixtures' type check installs a known version.
const require = createRequire(join(import.meta.dirname, '../../resilience/package.json'));
const ioredisVersion = (
  JSON.parse(readFileSync(require.resolve('ioredis/package.json'), 'utf8')) as { version: string }
).version;

let workDir = '';

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'infra-consumer-fixtures-'));
});

afterAll(async () => {
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

const rootExport = { types: './dist/index.d.ts', import: './dist/index.js' };
const redisExport = { types: './dist/redis.d.ts', import: './dist/redis.js' };

// A lazily loaded peer, as the design asks: `import type` at the top, `await import()` inside.
const lazyRedisJs = `export async function connect(url) {
  const { Redis } = await import('ioredis');
  return new Redis(url, { lazyConnect: true });
}
`;
const lazyRedisDts = `import type { Redis } from 'ioredis';
export declare function connect(url: string): Promise<Redis>;
`;

async function checkFixture(
  name: string,
  manifest: Record<string, unknown>,
  files: Record<string, string>,
  options: { usage?: string; importTimeoutMs?: number; tempRoot?: string } = {},
): Promise<ConsumerCheckReport> {
  const dir = join(workDir, name.replace('/', '__'));
  const packageJson = { name, version: '1.0.0', type: 'module', files: ['dist'], ...manifest };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(packageJson, null, 2));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  const tarball = await packPackage(dir, workDir);
  const usageFiles: string[] = [];
  if (options.usage !== undefined) {
    const usage = join(dir, 'usage.ts');
    await writeFile(usage, options.usage);
    usageFiles.push(usage);
  }
  return checkConsumer({
    packageName: name,
    tarballs: [tarball],
    typeDependencies:
      'ioredis' in ((manifest.peerDependencies ?? {}) as Record<string, string>) ? { ioredis: ioredisVersion } : {},
    usageFiles,
    tempRoot: options.tempRoot ?? workDir,
    ...(options.importTimeoutMs === undefined ? {} : { importTimeoutMs: options.importTimeoutMs }),
  });
}

const withRedisPeer = {
  peerDependencies: { ioredis: '>=5' },
  peerDependenciesMeta: { ioredis: { optional: true } },
};

describe('checkConsumer', () => {
  it.concurrent(
    'passes a package whose root and subpaths import alone and type-check',
    async () => {
      const report = await checkFixture(
        '@fixture/sound',
        { exports: { '.': rootExport, './redis': redisExport, './package.json': './package.json' }, ...withRedisPeer },
        {
          'dist/index.js': 'export const answer = 42;\nexport function greet(name) { return `hello ${name}`; }\n',
          'dist/index.d.ts':
            'export declare const answer: number;\nexport declare function greet(name: string): string;\n',
          'dist/redis.js': lazyRedisJs,
          'dist/redis.d.ts': lazyRedisDts,
        },
        { usage: "import { greet } from '@fixture/sound';\nexport const text: string = greet('consumer');\n" },
      );
      expect(report.failures).toEqual([]);
      expect(report.subpaths.map((entry) => entry.specifier)).toEqual([
        '@fixture/sound',
        '@fixture/sound/redis',
        '@fixture/sound/package.json',
      ]);
    },
    240_000,
  );

  it.concurrent(
    'fails a root import that statically imports an optional peer',
    async () => {
      const report = await checkFixture(
        '@fixture/leaky-peer',
        { exports: { '.': rootExport }, ...withRedisPeer },
        {
          'dist/index.js':
            "import { Redis } from 'ioredis';\nexport function connect(url) { return new Redis(url); }\n",
          'dist/index.d.ts': lazyRedisDts,
        },
      );
      expect(report.failures).toHaveLength(1);
      expect(report.failures[0]).toMatch(
        /^@fixture\/leaky-peer: cannot be imported from plain Node ESM without optional peers \(ioredis\): .*'ioredis'/,
      );
    },
    240_000,
  );

  it.concurrent(
    'fails a subpath whose file the package forgot to publish',
    async () => {
      const report = await checkFixture(
        '@fixture/forgot-file',
        { exports: { '.': rootExport, './extra': { types: './lib/extra.d.ts', import: './lib/extra.js' } } },
        {
          'dist/index.js': 'export const answer = 42;\n',
          'dist/index.d.ts': 'export declare const answer: number;\n',
          // Present in the repository, but "files" publishes only dist.
          'lib/extra.js': 'export const extra = true;\n',
          'lib/extra.d.ts': 'export declare const extra: boolean;\n',
        },
      );
      expect(report.failures.length).toBeGreaterThan(0);
      for (const failure of report.failures) expect(failure).toMatch(/^@fixture\/forgot-file\/extra: /);
      expect(report.failures.join('\n')).toContain(
        'exports "./extra" points at ./lib/extra.js, which is not in the packed tarball',
      );
      expect(report.failures.join('\n')).toContain('cannot be imported');
      expect(report.failures.join('\n')).toContain("Cannot find module '@fixture/forgot-file/extra'");
    },
    240_000,
  );

  it.concurrent(
    'fails declarations that miss a runtime export, and a usage file that misuses the types',
    async () => {
      const report = await checkFixture(
        '@fixture/types-drift',
        { exports: { '.': rootExport } },
        {
          'dist/index.js': 'export const declared = 1;\nexport const undeclared = 2;\n',
          'dist/index.d.ts': 'export declare const declared: number;\n',
        },
        { usage: "import { declared } from '@fixture/types-drift';\nexport const text: string = declared;\n" },
      );
      expect(report.failures).toHaveLength(2);
      expect(report.failures[0]).toMatch(
        /^@fixture\/types-drift: does not type-check .*consumer\.ts.*TS2339: Property 'undeclared' does not exist/,
      );
      expect(report.failures[1]).toMatch(
        /^@fixture\/types-drift: does not type-check .*usage\/usage\.ts\(2,14\) TS2322/,
      );
    },
    240_000,
  );

  it.concurrent(
    'fails a declaration file of the package that imports a file it does not ship',
    async () => {
      const report = await checkFixture(
        '@fixture/broken-declarations',
        { exports: { '.': rootExport } },
        {
          'dist/index.js': "export { helper } from './helper.js';\n",
          'dist/helper.js': 'export function helper() { return 1; }\n',
          'dist/index.d.ts': "export { helper } from './helper.js';\n",
        },
      );
      expect(report.failures).toHaveLength(1);
      expect(report.failures[0]).toMatch(
        /^@fixture\/broken-declarations: does not type-check .*node_modules\/@fixture\/broken-declarations\/dist\/index\.d\.ts\(1,24\) TS7016: Could not find a declaration file for module '\.\/helper\.js'/,
      );
    },
    240_000,
  );

  it.concurrent(
    'fails a subpath that keeps the process alive after import',
    async () => {
      const report = await checkFixture(
        '@fixture/ref-timer',
        { exports: { '.': rootExport } },
        {
          'dist/index.js': 'export const poller = setInterval(() => {}, 60_000);\n',
          'dist/index.d.ts': 'export declare const poller: NodeJS.Timeout;\n',
        },
        { importTimeoutMs: 3_000 },
      );
      expect(report.failures).toHaveLength(1);
      expect(report.failures[0]).toMatch(/^@fixture\/ref-timer: importing left the process running/);
    },
    240_000,
  );

  it.concurrent(
    'refuses to vouch for a package when its optional peer resolves from a parent directory',
    async () => {
      // A node_modules above the consumer project makes a peer importable although no one installed it.
      const parent = join(workDir, 'parent-with-peer');
      await mkdir(join(parent, 'node_modules/stray-peer'), { recursive: true });
      await writeFile(
        join(parent, 'node_modules/stray-peer/package.json'),
        '{"name":"stray-peer","version":"1.0.0","type":"module","main":"index.js"}',
      );
      await writeFile(join(parent, 'node_modules/stray-peer/index.js'), 'export const stray = true;\n');
      const report = await checkFixture(
        '@fixture/stray-peer',
        {
          exports: { '.': rootExport },
          peerDependencies: { 'stray-peer': '1' },
          peerDependenciesMeta: { 'stray-peer': { optional: true } },
        },
        {
          'dist/index.js': "import { stray } from 'stray-peer';\nexport const leaked = stray;\n",
          'dist/index.d.ts': 'export declare const leaked: boolean;\n',
        },
        { tempRoot: parent },
      );
      expect(report.failures).toEqual([
        '@fixture/stray-peer: its optional peer stray-peer resolves from the consumer project although it was not installed, so a leak cannot be seen',
      ]);
    },
    240_000,
  );

  it('refuses to check a package whose tarball it was not given', async () => {
    await expect(checkConsumer({ packageName: '@fixture/absent', tarballs: [] })).rejects.toThrow(
      /no tarball of @fixture\/absent/,
    );
  });
});
