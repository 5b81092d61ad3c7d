// The consumer check proper: every publishable workspace package, packed and installed alone.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsumer } from './consumer-check.js';
import { packWorkspacePackages, type PackedTarball } from './pack.js';
import {
  findWorkspaceRoot,
  listWorkspacePackages,
  publishablePackages,
  readManifest,
  registryPeerSpecs,
  workspaceClosure,
  type WorkspacePackage,
} from './workspace.js';

const root = findWorkspaceRoot(import.meta.dirname);
const all = listWorkspacePackages(root);
const publishable = publishablePackages(all);
const ownManifest = readManifest(join(import.meta.dirname, '..'));

function tarballsOf(
  packages: readonly WorkspacePackage[],
  packed: ReadonlyMap<string, PackedTarball>,
): PackedTarball[] {
  return packages.map((pkg) => {
    const tarball = packed.get(pkg.name);
    if (tarball === undefined) throw new Error(`${pkg.name} was not packed`);
    return tarball;
  });
}

function usageFilesOf(pkg: WorkspacePackage): string[] {
  const file = join(import.meta.dirname, 'usage', `${pkg.name.replace(/^@[^/]+\//, '')}.ts`);
  return existsSync(file) ? [file] : [];
}

describe('publishable workspace packages', () => {
  it('are found, and each is a workspace:* devDependency so turbo builds it before this test', () => {
    expect(publishable.map((pkg) => pkg.name)).toContain('@infra/resilience');
    const unlisted = publishable
      .filter((pkg) => ownManifest.devDependencies?.[pkg.name] !== 'workspace:*')
      .map((pkg) => pkg.name);
    expect(unlisted, `add ${unlisted.join(', ')} to packages/consumer-check devDependencies as "workspace:*"`).toEqual(
      [],
    );
  });
});

describe('each publishable package, packed and installed alone into a fresh project', () => {
  const packed = new Map<string, PackedTarball>();
  let packDir = '';

  beforeAll(async () => {
    packDir = await mkdtemp(join(tmpdir(), 'infra-packed-'));
    // Each package is packed once, then installed by every check that needs it.
    const tarballs = await packWorkspacePackages(
      root,
      publishable.map((pkg) => pkg.name),
      packDir,
    );
    for (const tarball of tarballs) packed.set(tarball.name, tarball);
  }, 120_000);

  afterAll(async () => {
    if (packDir !== '') await rm(packDir, { recursive: true, force: true });
  });

  it.concurrent.for(publishable.map((pkg) => pkg.name))(
    '%s imports every subpath without optional peers and type-checks as a consumer',
    { timeout: 300_000 },
    async (name) => {
      const pkg = publishable.find((candidate) => candidate.name === name);
      if (pkg === undefined) throw new Error(`${name} is no longer in the workspace`);
      const closure = workspaceClosure(pkg, all, false);
      const withPeers = workspaceClosure(pkg, all, true).filter((peer) => !closure.includes(peer));
      const report = await checkConsumer({
        packageName: pkg.name,
        tarballs: tarballsOf(closure, packed),
        peerTarballs: tarballsOf(withPeers, packed),
        typeDependencies: registryPeerSpecs(pkg, all),
        usageFiles: usageFilesOf(pkg),
      });
      expect(report.failures).toEqual([]);
      expect(report.subpaths.map((entry) => entry.subpath)).toContain('.');
    },
  );
});
