import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findWorkspaceRoot,
  listWorkspacePackages,
  optionalPeers,
  publishablePackages,
  registryPeerSpecs,
  workspaceClosure,
  type WorkspacePackage,
} from './workspace.js';

let root = '';
let all: WorkspacePackage[] = [];

async function addPackage(dir: string, manifest: Record<string, unknown>): Promise<void> {
  await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, dir, 'package.json'), JSON.stringify({ version: '1.2.3', ...manifest }));
}

function byName(name: string): WorkspacePackage {
  const pkg = all.find((candidate) => candidate.name === name);
  if (pkg === undefined) throw new Error(`fixture workspace has no ${name}`);
  return pkg;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'infra-workspace-'));
  await writeFile(
    join(root, 'pnpm-workspace.yaml'),
    "packages:\n  - 'packages/*'\n  - apps/* # the demo\n  - '!packages/skipped'\n",
  );
  await addPackage('packages/core', { name: '@w/core' });
  await addPackage('packages/cache', {
    name: '@w/cache',
    dependencies: { '@w/core': 'workspace:^', lru: '^1.0.0' },
    peerDependencies: { ioredis: '>=5', '@w/outbox': 'workspace:^', '@scope/client': '>=1' },
    peerDependenciesMeta: {
      ioredis: { optional: true },
      '@w/outbox': { optional: true },
      '@scope/client': { optional: true },
    },
    devDependencies: { ioredis: '^5.9.2', '@types/scope__client': '^1.0.0', '@scope/client': '^1.4.0' },
  });
  await addPackage('packages/outbox', { name: '@w/outbox', dependencies: { '@w/core': 'workspace:^' } });
  await addPackage('packages/leaky', { name: '@w/leaky', dependencies: { '@w/helpers': 'workspace:*' } });
  await addPackage('packages/helpers', { name: '@w/helpers', private: true });
  await addPackage('packages/skipped', { name: '@w/skipped' });
  await addPackage('apps/demo', { name: 'demo', private: true });
  await mkdir(join(root, 'packages/not-a-package'));
  // What pnpm installed for the cache package: a symlink into its store.
  await addPackage('store/ioredis', { name: 'ioredis', version: '5.11.1' });
  await mkdir(join(root, 'packages/cache/node_modules'), { recursive: true });
  await symlink(join(root, 'store/ioredis'), join(root, 'packages/cache/node_modules/ioredis'));
  all = listWorkspacePackages(root);
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('workspace discovery', () => {
  it('finds the root from a nested directory', () => {
    expect(findWorkspaceRoot(join(root, 'packages/cache/node_modules'))).toBe(root);
    expect(() => findWorkspaceRoot(tmpdir())).toThrow(/No pnpm-workspace\.yaml found/);
  });

  it('lists the packages the workspace globs name, and tells the publishable ones', () => {
    expect(all.map((pkg) => pkg.name)).toEqual(['@w/cache', '@w/core', '@w/helpers', '@w/leaky', '@w/outbox', 'demo']);
    expect(publishablePackages(all).map((pkg) => pkg.name)).toEqual(['@w/cache', '@w/core', '@w/leaky', '@w/outbox']);
  });

  it('refuses workspace globs it cannot expand', async () => {
    const odd = await mkdtemp(join(tmpdir(), 'infra-workspace-odd-'));
    try {
      await writeFile(join(odd, 'pnpm-workspace.yaml'), "packages:\n  - 'packages/**'\n");
      expect(() => listWorkspacePackages(odd)).toThrow(/Unsupported workspace glob "packages\/\*\*"/);
    } finally {
      await rm(odd, { recursive: true, force: true });
    }
  });
});

describe('what a consumer installs', () => {
  it('installs workspace dependencies transitively, and workspace optional peers only when asked', () => {
    expect(workspaceClosure(byName('@w/cache'), all, false).map((pkg) => pkg.name)).toEqual(['@w/cache', '@w/core']);
    expect(workspaceClosure(byName('@w/cache'), all, true).map((pkg) => pkg.name)).toEqual([
      '@w/cache',
      '@w/core',
      '@w/outbox',
    ]);
  });

  it('refuses a publishable package that depends on a private one', () => {
    expect(() => workspaceClosure(byName('@w/leaky'), all, false)).toThrow(
      '@w/leaky depends on the private workspace package @w/helpers, which is never published',
    );
  });

  it('adds registry optional peers at the version the workspace installed, with their @types', () => {
    expect(optionalPeers(byName('@w/cache').manifest)).toEqual(['ioredis', '@w/outbox', '@scope/client']);
    expect(registryPeerSpecs(byName('@w/cache'), all)).toEqual({
      ioredis: '5.11.1',
      '@scope/client': '^1.4.0',
      '@types/scope__client': '^1.0.0',
    });
  });
});
