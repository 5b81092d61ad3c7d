import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

type DependencyMap = Readonly<Record<string, string>>;

/** The fields of a package.json this check reads. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly exports?: unknown;
  readonly dependencies?: DependencyMap;
  readonly devDependencies?: DependencyMap;
  readonly peerDependencies?: DependencyMap;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
}

/** A package of the workspace, with the directory it lives in. */
export interface WorkspacePackage {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly manifest: PackageManifest;
}

/** Reads and validates `<dir>/package.json`. */
export function readManifest(dir: string): PackageManifest {
  const file = join(dir, 'package.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PackageManifest> | null;
  if (parsed === null || typeof parsed !== 'object') throw new TypeError(`${file} does not hold a JSON object`);
  if (typeof parsed.name !== 'string' || parsed.name.length === 0) throw new TypeError(`${file} has no "name"`);
  if (typeof parsed.version !== 'string' || parsed.version.length === 0) {
    throw new TypeError(`${file} (${parsed.name}) has no "version"`);
  }
  return parsed as PackageManifest;
}

/** The closest directory at or above `from` that holds pnpm-workspace.yaml. */
export function findWorkspaceRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No pnpm-workspace.yaml found at or above ${from}`);
    dir = parent;
  }
}

// pnpm-workspace.yaml here lists plain `dir/*` globs; anything richer is refused rather than
// silently skipped, so a new layout cannot hide packages from the check.
function workspaceGlobs(root: string): string[] {
  const text = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs: string[] = [];
  let inPackages = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inPackages = /^packages\s*:/.test(line);
    const item = /^\s+-\s+['"]?([^'"#]+?)['"]?\s*(#.*)?$/.exec(line);
    if (inPackages && item?.[1] !== undefined) globs.push(item[1]);
  }
  if (globs.length === 0) throw new Error(`${root}/pnpm-workspace.yaml lists no packages`);
  for (const glob of globs) {
    if (glob.startsWith('!')) continue;
    if (glob.includes('**') || (glob.includes('*') && !glob.endsWith('/*'))) {
      throw new Error(`Unsupported workspace glob "${glob}" in pnpm-workspace.yaml: use "dir/*" or a plain directory`);
    }
  }
  return globs;
}

/** Every package of the workspace (private ones included), sorted by name. */
export function listWorkspacePackages(root: string): WorkspacePackage[] {
  const dirs = new Set<string>();
  const globs = workspaceGlobs(root);
  for (const glob of globs.filter((g) => !g.startsWith('!'))) {
    if (!glob.endsWith('/*')) {
      dirs.add(join(root, glob));
      continue;
    }
    const parent = join(root, glob.slice(0, -2));
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      if (entry.isDirectory()) dirs.add(join(parent, entry.name));
    }
  }
  for (const negated of globs.filter((g) => g.startsWith('!'))) dirs.delete(join(root, negated.slice(1)));
  const packages: WorkspacePackage[] = [];
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    const manifest = readManifest(dir);
    packages.push({ name: manifest.name, version: manifest.version, dir, manifest });
  }
  return packages.sort((a, b) => a.name.localeCompare(b.name));
}

/** The packages a release publishes: those not marked `"private": true`. */
export function publishablePackages(packages: readonly WorkspacePackage[]): WorkspacePackage[] {
  return packages.filter((pkg) => pkg.manifest.private !== true);
}

/** Names of the optional peers a package declares. */
export function optionalPeers(manifest: PackageManifest): string[] {
  return Object.keys(manifest.peerDependencies ?? {}).filter(
    (name) => manifest.peerDependenciesMeta?.[name]?.optional === true,
  );
}

/**
 * The workspace packages a consumer installs together with `pkg`: the package itself, its
 * workspace dependencies (transitively) and, with `withOptionalPeers`, workspace packages it
 * names as optional peers. Throws when one of them is private: its tarball would point at a
 * package no registry will ever hold.
 */
export function workspaceClosure(
  pkg: WorkspacePackage,
  all: readonly WorkspacePackage[],
  withOptionalPeers: boolean,
): WorkspacePackage[] {
  const byName = new Map(all.map((p) => [p.name, p]));
  const seen = new Map<string, WorkspacePackage>();
  const visit = (current: WorkspacePackage, via: string | undefined): void => {
    if (seen.has(current.name)) return;
    if (current.manifest.private === true) {
      throw new Error(
        `${via ?? current.name} depends on the private workspace package ${current.name}, which is never published`,
      );
    }
    seen.set(current.name, current);
    const names = Object.keys(current.manifest.dependencies ?? {});
    if (withOptionalPeers && current === pkg) names.push(...optionalPeers(current.manifest));
    for (const name of names) {
      const next = byName.get(name);
      if (next !== undefined) visit(next, current.name);
    }
  };
  visit(pkg, undefined);
  return [...seen.values()];
}

function typesPackageFor(name: string): string {
  return name.startsWith('@') ? `@types/${name.slice(1).replace('/', '__')}` : `@types/${name}`;
}

// The version the workspace really tested with (what pnpm installed for this package), else the
// range it asks for.
function workspaceVersion(pkg: WorkspacePackage, name: string): string | undefined {
  const manifestFile = join(pkg.dir, 'node_modules', name, 'package.json');
  if (existsSync(manifestFile)) {
    const installed = JSON.parse(readFileSync(realpathSync(manifestFile), 'utf8')) as { version?: unknown };
    if (typeof installed.version === 'string') return installed.version;
  }
  return pkg.manifest.devDependencies?.[name] ?? pkg.manifest.peerDependencies?.[name];
}

/**
 * The registry packages a consumer adds to use every subpath of `pkg` with types: its optional
 * peers that are not workspace packages, and their `@types/*` packages when the workspace uses
 * them, at the versions the workspace uses.
 */
export function registryPeerSpecs(pkg: WorkspacePackage, all: readonly WorkspacePackage[]): Record<string, string> {
  const internal = new Set(all.map((p) => p.name));
  const specs: Record<string, string> = {};
  for (const peer of optionalPeers(pkg.manifest)) {
    if (internal.has(peer)) continue;
    const version = workspaceVersion(pkg, peer);
    if (version === undefined)
      throw new Error(`${pkg.name}: cannot tell which version of its optional peer ${peer} to install`);
    specs[peer] = version;
    const types = typesPackageFor(peer);
    const typesVersion = pkg.manifest.devDependencies?.[types] === undefined ? undefined : workspaceVersion(pkg, types);
    if (typesVersion !== undefined) specs[types] = typesVersion;
  }
  return specs;
}
