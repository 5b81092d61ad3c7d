import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDataSubpath, listSubpaths, type SubpathEntry } from './exports-map.js';
import { probeImports } from './import-check.js';
import type { PackedTarball } from './pack.js';
import { outputTail, runCommand } from './run-command.js';
import { typeCheckConsumer } from './type-check.js';
import { optionalPeers, readManifest } from './workspace.js';

/** What {@link checkConsumer} installs and checks. */
export interface ConsumerCheckInput {
  /** The package under check; its tarball must be among `tarballs`. */
  readonly packageName: string;
  /** Installed together first: the package and the workspace packages it depends on. */
  readonly tarballs: readonly PackedTarball[];
  /**
   * Workspace packages the package names as optional peers, added for the type check only.
   * @default []
   */
  readonly peerTarballs?: readonly PackedTarball[];
  /**
   * Registry packages (name → version or range) added for the type check: the optional peers
   * and their `@types/*`. `@types/node` is added on top.
   * @default {}
   */
  readonly typeDependencies?: Readonly<Record<string, string>>;
  /**
   * Hand-written consumer files type-checked beside the generated one.
   * @default []
   */
  readonly usageFiles?: readonly string[];
  /**
   * How long importing every subpath may take before the probe counts as hung.
   * @default 30000
   */
  readonly importTimeoutMs?: number;
  /**
   * Directory the temporary consumer project is created in (and removed from).
   * @default os.tmpdir()
   */
  readonly tempRoot?: string;
}

/** Result of one package's check. Empty `failures` means a consumer can use every subpath. */
export interface ConsumerCheckReport {
  readonly packageName: string;
  readonly subpaths: readonly SubpathEntry[];
  /** Each starts with the specifier it concerns (`@infra/x` or `@infra/x/sub`). */
  readonly failures: readonly string[];
}

const require = createRequire(import.meta.url);
const typescriptPath = require.resolve('typescript/lib/typescript.js');
const typesNodeVersion = (
  JSON.parse(readFileSync(require.resolve('@types/node/package.json'), 'utf8')) as { version: string }
).version;

// Quiet and quick: no audit or funding calls, and the local cache before the registry.
const npmInstallFlags = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
const npmEnv = { npm_config_update_notifier: 'false' };

function listFiles(root: string, dir = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (path !== 'node_modules') files.push(...listFiles(root, path));
    } else files.push(path);
  }
  return files;
}

// Every copy of `name` anywhere in the tree: one copy, from our tarball, proves npm did not fetch
// an unrelated package of the same name from the registry to satisfy a range.
function installedCopies(nodeModules: string, name: string): { path: string; version: string }[] {
  const copies: { path: string; version: string }[] = [];
  const manifest = join(nodeModules, name, 'package.json');
  if (existsSync(manifest))
    copies.push({ path: join(nodeModules, name), version: readManifest(join(nodeModules, name)).version });
  if (!existsSync(nodeModules)) return copies;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const packages = entry.name.startsWith('@')
      ? readdirSync(join(nodeModules, entry.name)).map((scoped) => `${entry.name}/${scoped}`)
      : [entry.name];
    for (const pkg of packages) copies.push(...installedCopies(join(nodeModules, pkg, 'node_modules'), name));
  }
  return copies;
}

async function npmInstall(projectDir: string, specs: readonly string[]): Promise<string | undefined> {
  if (specs.length === 0) return undefined;
  const result = await runCommand('npm', [...npmInstallFlags, ...specs], {
    cwd: projectDir,
    env: npmEnv,
    timeoutMs: 300_000,
  });
  return result.code === 0 ? undefined : `npm install ${specs.join(' ')} failed:\n${outputTail(result)}`;
}

function missingFiles(entry: SubpathEntry, files: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const has = (target: string): boolean => files.has(target.replace(/^\.\//, ''));
  if (entry.importTarget === undefined) problems.push('has no "import" or "default" target for Node');
  else if (!has(entry.importTarget))
    problems.push(`points at ${entry.importTarget}, which is not in the packed tarball`);
  if (!isDataSubpath(entry)) {
    if (entry.typesTarget === undefined) problems.push('has no type declarations');
    else if (!has(entry.typesTarget))
      problems.push(`declares types in ${entry.typesTarget}, which is not in the packed tarball`);
  }
  return problems.map(
    (problem) =>
      `${entry.specifier}: exports "${entry.subpath}" ${problem} (is the package built, and is the file covered by "files"?)`,
  );
}

/**
 * Installs a packed package alone into a fresh `{"type":"module"}` project and checks it as a
 * consumer would meet it: phase 1 imports the root and every subpath from plain Node ESM with no
 * optional peer installed; phase 2 adds the optional peers and `@types/node` and type-checks a
 * consumer file importing every subpath under strict NodeNext. Never throws for a broken package:
 * every problem is a failure line naming the package and subpath.
 */
export async function checkConsumer(input: ConsumerCheckInput): Promise<ConsumerCheckReport> {
  const { packageName, tarballs } = input;
  if (!tarballs.some((tarball) => tarball.name === packageName)) {
    throw new TypeError(
      `checkConsumer: no tarball of ${packageName} among ${tarballs.map((t) => t.name).join(', ') || 'none'}`,
    );
  }
  const projectDir = await mkdtemp(join(input.tempRoot ?? tmpdir(), 'infra-consumer-'));
  const failures: string[] = [];
  let subpaths: SubpathEntry[] = [];
  try {
    await writeFile(
      join(projectDir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const installFailure = await npmInstall(
      projectDir,
      tarballs.map((tarball) => tarball.file),
    );
    if (installFailure !== undefined) {
      failures.push(`${packageName}: installing its tarball alone fails: ${installFailure}`);
      return { packageName, subpaths, failures };
    }
    const nodeModules = join(projectDir, 'node_modules');
    for (const tarball of tarballs) {
      const copies = installedCopies(nodeModules, tarball.name);
      const foreign = copies.filter(
        (copy) => copy.path !== join(nodeModules, tarball.name) || copy.version !== tarball.version,
      );
      if (foreign.length > 0) {
        const where = foreign.map((copy) => `${copy.version} at ${copy.path.slice(projectDir.length + 1)}`).join(', ');
        failures.push(
          `${packageName}: needs a ${tarball.name} other than the workspace's ${tarball.version} (npm installed ${where}): a dependency range does not match the workspace version`,
        );
      }
    }
    const installedDir = join(nodeModules, packageName);
    const manifest = readManifest(installedDir);
    const files = listFiles(installedDir);
    try {
      subpaths = listSubpaths(packageName, manifest.exports, files);
    } catch (error) {
      failures.push(`${packageName}: ${error instanceof Error ? error.message : String(error)}`);
      return { packageName, subpaths, failures };
    }
    const fileSet = new Set(files);
    const targets = subpaths.flatMap((entry) => (isDataSubpath(entry) ? [] : [entry.importTarget, entry.typesTarget]));
    const named = targets.filter((target) => target !== undefined);
    if (named.length > 0 && !named.some((target) => fileSet.has(target.replace(/^\.\//, '')))) {
      failures.push(
        `${packageName}: the packed tarball holds none of the files its exports map names (${named.join(', ')}): build the package (pnpm build) and check its "files"`,
      );
      return { packageName, subpaths, failures };
    }
    for (const entry of subpaths) failures.push(...missingFiles(entry, fileSet));

    const modules = subpaths.filter((entry) => !isDataSubpath(entry));
    const peers = optionalPeers(manifest);
    const probe = await probeImports(
      projectDir,
      modules.map((entry) => entry.specifier),
      peers,
      {
        timeoutMs: input.importTimeoutMs ?? 30_000,
      },
    );
    for (const peer of probe.resolvablePeers) {
      failures.push(
        `${packageName}: its optional peer ${peer} resolves from the consumer project although it was not installed, so a leak cannot be seen`,
      );
    }
    for (const outcome of probe.outcomes) {
      if (!outcome.ok)
        failures.push(
          `${outcome.specifier}: cannot be imported from plain Node ESM without optional peers (${peers.join(', ') || 'none'}): ${outcome.error}`,
        );
    }
    if (probe.failure !== undefined) failures.push(`${packageName}: ${probe.failure}`);

    const typeSpecs = Object.entries({ ...input.typeDependencies, '@types/node': typesNodeVersion }).map(
      ([name, version]) => `${name}@${version}`,
    );
    const peerInstallFailure = await npmInstall(projectDir, [
      ...typeSpecs,
      ...(input.peerTarballs ?? []).map((tarball) => tarball.file),
    ]);
    if (peerInstallFailure !== undefined) {
      failures.push(`${packageName}: installing its optional peers for the type check fails: ${peerInstallFailure}`);
      return { packageName, subpaths, failures };
    }
    const exportsBySpecifier = new Map(
      probe.outcomes.map((outcome) => [outcome.specifier, outcome.ok ? outcome.exports : []]),
    );
    const consumed = modules.map((entry) => ({
      specifier: entry.specifier,
      exports: exportsBySpecifier.get(entry.specifier) ?? [],
    }));
    const findings = await typeCheckConsumer(projectDir, consumed, {
      typescriptPath,
      ownPackages: tarballs.map((tarball) => tarball.name),
      usageFiles: input.usageFiles ?? [],
    });
    for (const finding of findings) {
      failures.push(
        `${finding.specifier ?? packageName}: does not type-check for a consumer (strict, NodeNext): ${finding.message}`,
      );
    }
    return { packageName, subpaths, failures };
  } finally {
    if (process.env.CONSUMER_CHECK_KEEP === undefined) await rm(projectDir, { recursive: true, force: true });
    else process.stderr.write(`${packageName}: consumer project kept at ${projectDir} (CONSUMER_CHECK_KEEP is set)\n`);
  }
}
