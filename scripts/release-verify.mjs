#!/usr/bin/env node
// pnpm release:verify: a real release, end to end, against a throw-away npm registry on this machine.
//
//  1. builds the workspace (turbo, cached) unless --skip-build;
//  2. starts Verdaccio on a free loopback port, storing in a temp dir, holding @infra/* only;
//  3. copies the working tree to a scratch directory and runs `changeset version` there (never in
//     the working tree), then checks that every versioned package got its CHANGELOG.md;
//  4. publishes with the real release command, `changeset publish` (pnpm publish underneath, which
//     turns `workspace:` ranges into real ones), and checks every published manifest and tarball;
//  5. installs each package BY NAME into its own fresh project (@infra scope mapped to the local
//     registry, everything else from the usual registry), alone, imports every subpath from plain
//     Node, then runs examples/<package>/ there if that directory exists;
//  6. publishes again with nothing changed: nothing may be published;
//  7. adds a patch changeset for one package, versions and publishes: exactly that package and its
//     dependents may be published.
// Everything it starts or writes (registry process, temp dirs) is removed at the end, failure or
// not; --keep leaves the temp dir for a look. Exits non-zero with the reason on the first failure.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();

const USAGE = `usage: node scripts/release-verify.mjs [--skip-build] [--keep] [--verbose] [--bump <package>]
  --skip-build   use the dist/ folders already built
  --keep         leave the scratch directory (copy, registry storage, consumer projects) in place
  --verbose      print the output of every command, not only of the failing one
  --bump <name>  the package the "one package bumped" check gives a patch changeset (default @infra/resilience)`;

const args = process.argv.slice(2);
const options = { skipBuild: false, keep: false, verbose: false, bump: '@infra/resilience' };
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--skip-build') options.skipBuild = true;
  else if (arg === '--keep') options.keep = true;
  else if (arg === '--verbose') options.verbose = true;
  else if (arg === '--bump' && args[i + 1] !== undefined) options.bump = args[++i];
  else {
    process.stderr.write(`release:verify: unknown argument "${arg}"\n${USAGE}\n`);
    process.exit(2);
  }
}

class VerifyError extends Error {}

// --- output --------------------------------------------------------------------------------------

const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)}s`;
const say = (line) => process.stdout.write(`${line}\n`);
let currentStep = 'start';

async function step(title, action) {
  currentStep = title;
  say(`\n==> ${title}`);
  const since = performance.now();
  const result = await action();
  say(`<== ${title}: ok (${seconds(since)})`);
  return result;
}

// --- cleanup -------------------------------------------------------------------------------------

const cleanups = [];
const children = new Set();
let cleaning;
function cleanUp() {
  cleaning ??= (async () => {
    // Commands still running first (an interrupted npm install), then the rest, newest first.
    for (const child of children) child.kill('SIGTERM');
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`release:verify: clean-up step failed: ${message(error)}\n`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    process.stderr.write(`\nrelease:verify: ${signal} during "${currentStep}": cleaning up\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

function message(error) {
  return error instanceof Error ? error.message : String(error);
}

// --- commands ------------------------------------------------------------------------------------

/**
 * Runs `command args` and resolves with its exit code and combined output. Rejects (VerifyError,
 * with the output's tail) when it exits non-zero, unless `allowFailure`, or outlives `timeoutMs`.
 */
function run(command, commandArgs, { cwd = root, env = process.env, timeoutMs = 300_000, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    const collect = (chunk) => {
      output += chunk;
      if (options.verbose) process.stdout.write(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const shown = `${command === process.execPath ? 'node' : command} ${commandArgs.join(' ')}`;
    child.once('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new VerifyError(`cannot run ${shown} (in ${cwd}): ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const tail = output.trim().split('\n').slice(-40).join('\n');
      if (timedOut)
        reject(new VerifyError(`${shown} (in ${cwd}) did not finish within ${timeoutMs / 1000} s:\n${tail}`));
      else if (code !== 0 && !allowFailure) {
        reject(new VerifyError(`${shown} (in ${cwd}) exited with ${code ?? signal}:\n${tail}`));
      } else resolve({ code, output });
    });
  });
}

/** Runs `tasks` (functions returning promises) at most `limit` at a time; rejects on the first failure. */
async function inParallel(tasks, limit) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const changesetBin = join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
// The semver implementation changesets itself uses, resolved from its own directory.
const semver = existsSync(changesetBin) ? createRequire(realpathSync(changesetBin))('semver') : undefined;

// --- the workspace ---------------------------------------------------------------------------------

/** The publishable packages under `repo`: { name, dir (relative), manifest }. */
function publicPackages(repo) {
  const globs = readFileSync(join(repo, 'pnpm-workspace.yaml'), 'utf8')
    .split('\n')
    .map((line) => /^\s*-\s*['"]?([^'"#]+?)\/\*['"]?\s*$/.exec(line)?.[1])
    .filter((parent) => parent !== undefined);
  const found = [];
  for (const parent of globs) {
    if (!existsSync(join(repo, parent))) continue;
    for (const entry of readdirSync(join(repo, parent)).sort()) {
      const file = join(repo, parent, entry, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = readJson(file);
      if (manifest.private !== true) found.push({ name: manifest.name, dir: join(parent, entry), manifest });
    }
  }
  if (found.length === 0) throw new VerifyError(`no publishable package found under ${globs.join(', ')} in ${repo}`);
  return found;
}

/** The range `raw` stands for once published, as changesets reads it (`workspace:^` → `^<old version>`). */
function publishedRange(raw, oldVersion) {
  if (!raw.startsWith('workspace:')) return raw;
  const range = raw.slice('workspace:'.length);
  if (range === '*') return oldVersion;
  if (range === '^' || range === '~') return `${range}${oldVersion}`;
  return range;
}

/**
 * What a patch changeset for `name` must release, by the rule changesets applies: the package
 * itself, then every public package whose runtime range (dependencies, optionalDependencies,
 * peerDependencies) on a released package no longer admits that package's next version, and so on.
 * A dependent whose range still admits the new version is not released: it is listed in `inRange`.
 */
function patchRelease(name, packages) {
  const version = new Map(packages.map((pkg) => [pkg.name, pkg.manifest.version]));
  const released = new Map([[name, 'the changeset']]);
  const inRange = [];
  const queue = [name];
  while (queue.length > 0) {
    const dep = queue.shift();
    const next = semver.inc(version.get(dep), 'patch');
    for (const { name: dependent, manifest } of packages) {
      if (released.has(dependent)) continue;
      for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
        const raw = manifest[field]?.[dep];
        if (raw === undefined) continue;
        const range = publishedRange(raw, version.get(dep));
        if (!semver.satisfies(next, range)) {
          released.set(dependent, `${field} "${raw}" on ${dep} excludes ${next}`);
          queue.push(dependent);
          break;
        }
        inRange.push(`${dependent} (${field} "${raw}" on ${dep} admits ${next})`);
      }
    }
  }
  return { released, inRange: inRange.filter((entry) => !released.has(entry.split(' ')[0])) };
}

// --- the registry ----------------------------------------------------------------------------------

// Verdaccio 6.8.0 is the last 6.x release whose engines accept Node 20 (6.9 and later need Node 22),
// so it runs on whatever Node runs this script (20.19+, 22, 24) without a second Node download. It is
// installed on first use from the lock in scripts/release-registry/ into a cache outside the
// repository, so it adds nothing to the workspace's own install.
async function installVerdaccio() {
  const lockDir = join(root, 'scripts', 'release-registry');
  const lock = readFileSync(join(lockDir, 'package-lock.json'));
  const key = createHash('sha256').update(lock).digest('hex').slice(0, 12);
  const cacheRoot =
    process.env.INFRA_CI_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'infra-ci');
  const dir = join(cacheRoot, `verdaccio-${key}`);
  const bin = join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  const stamp = join(dir, '.installed');
  if (existsSync(stamp) && existsSync(bin)) {
    say(`Verdaccio already installed in ${dir}`);
    return bin;
  }
  say(`installing Verdaccio from scripts/release-registry/package-lock.json into ${dir} (once per lock)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(lockDir, 'package.json'), join(dir, 'package.json'));
  cpSync(join(lockDir, 'package-lock.json'), join(dir, 'package-lock.json'));
  await run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: dir,
    timeoutMs: 900_000,
  });
  if (!existsSync(bin)) throw new VerifyError(`npm ci in ${dir} did not install ${bin}`);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function answers(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function startRegistry(bin, dir) {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yaml');
  // No uplinks: the registry holds only what this run publishes. Consumers map the @infra scope to
  // it and fetch everything else from their usual registry. npm wants a token to publish even where
  // the registry allows anonymous publishing, so the publish environment carries a dummy one.
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: -1',
      'uplinks: {}',
      'packages:',
      "  '@infra/*':",
      '    access: $all',
      '    publish: $all',
      '    unpublish: $all',
      'web:',
      '  enable: false',
      'max_body_size: 50mb',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'registry.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const collect = (chunk) => {
      log += chunk;
      writeFileSync(logFile, log);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    cleanups.push(async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!exited && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      if (!exited) child.kill('SIGKILL');
      say(`stopped the registry (pid ${child.pid})`);
    });
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline) {
      if (await answers(`${url}-/ping`)) {
        say(`Verdaccio (pid ${child.pid}) listens on ${url}, storing in ${dir}`);
        return url;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Another process may have taken the port between freePort() and the listen: try another one.
    if (exited && attempt < 3 && /EADDRINUSE/.test(log)) continue;
    throw new VerifyError(`the registry did not answer on ${url} within 60 s. Its output:\n${log.trim().slice(-3000)}`);
  }
}

async function packument(registry, name) {
  const response = await fetch(`${registry}${name.replace('/', '%2f')}`, { signal: AbortSignal.timeout(30_000) });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new VerifyError(`the registry answered ${response.status} for ${name}`);
  return response.json();
}

/** name -> sorted list of the versions the registry holds. */
async function registryState(registry, names) {
  const state = new Map();
  for (const name of names) state.set(name, Object.keys((await packument(registry, name))?.versions ?? {}).sort());
  return state;
}

/** The `name@version` entries of `after` that `before` did not have. */
function newlyPublished(before, after) {
  const added = [];
  for (const [name, versions] of after) {
    for (const version of versions) if (!before.get(name)?.includes(version)) added.push(`${name}@${version}`);
  }
  return added.sort();
}

// --- tarballs ----------------------------------------------------------------------------------------

/** The paths of the regular files in a .tgz (ustar, with GNU long names and pax paths). */
function tarFiles(gzipped) {
  const data = gunzipSync(gzipped);
  const files = [];
  let longName;
  for (let offset = 0; offset + 512 <= data.length;) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start, length) => header.toString('utf8', start, start + length).replace(/\0[\s\S]*$/, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const body = data.subarray(offset + 512, offset + 512 + size);
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    if (type === 'L') longName = body.toString('utf8').replace(/\0[\s\S]*$/, '');
    else if (type === 'x') {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      if (path !== undefined) longName = path;
    } else if (type === '0' || type === '') files.push(name.replace(/^\.\//, ''));
    offset += 512 + Math.ceil(size / 512) * 512;
    name = '';
  }
  return files;
}

function exportTargets(exports) {
  if (typeof exports === 'string') return exports.includes('*') ? [] : [exports.replace(/^\.\//, '')];
  if (Array.isArray(exports)) return exports.flatMap(exportTargets);
  if (exports && typeof exports === 'object') return Object.values(exports).flatMap(exportTargets);
  return [];
}

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

/** What is wrong with the manifest and tarball the registry serves for `name@version`. */
async function publishedProblems(registry, name, version, publishedVersions) {
  const problems = [];
  const document = await packument(registry, name);
  const manifest = document?.versions?.[version];
  if (manifest === undefined) return [`the registry has no ${name}@${version}`];
  for (const field of DEPENDENCY_FIELDS) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is still "${range}"`);
      // A runtime range on one of our packages must admit the version of it being released.
      const published = publishedVersions.get(dep);
      if (field === 'devDependencies' || published === undefined) continue;
      if (semver.validRange(range) === null) problems.push(`${field}.${dep} is "${range}", not a semver range`);
      else if (!semver.satisfies(published, range)) {
        problems.push(`${field}.${dep} is "${range}", which excludes ${dep}@${published}, the version being released`);
      }
    }
  }
  const response = await fetch(manifest.dist.tarball, { signal: AbortSignal.timeout(60_000) });
  if (!response.ok) return [...problems, `tarball ${manifest.dist.tarball}: HTTP ${response.status}`];
  const files = new Set(
    tarFiles(Buffer.from(await response.arrayBuffer())).map((file) => file.replace(/^package\//, '')),
  );
  for (const required of ['package.json', 'README.md', 'LICENSE']) {
    if (!files.has(required)) problems.push(`the tarball has no ${required}`);
  }
  if (![...files].some((file) => file.startsWith('dist/'))) problems.push('the tarball has no dist/');
  for (const target of exportTargets(manifest.exports)) {
    if (!files.has(target)) problems.push(`exports names ${target}, which the tarball does not hold`);
  }
  return problems;
}

// --- consumers ---------------------------------------------------------------------------------------

/** The @infra packages `name` pulls in at run time, itself included (from the published manifests). */
function runtimeClosure(name, manifests) {
  const closure = new Set();
  const visit = (current) => {
    if (closure.has(current)) return;
    closure.add(current);
    const manifest = manifests.get(current);
    for (const dep of Object.keys({ ...manifest?.dependencies, ...manifest?.optionalDependencies })) {
      if (manifests.has(dep)) visit(dep);
    }
  };
  visit(name);
  return closure;
}

async function checkConsumer({ name, version, manifest, manifests, registry, dir }) {
  const short = name.replace(/^@[^/]+\//, '');
  const project = join(dir, short);
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: `consumer-of-${short}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  // The project's own .npmrc: @infra from the local registry, everything else as usual.
  writeFileSync(join(project, '.npmrc'), `@infra:registry=${registry}\n`);
  const npmEnv = { ...process.env, 'npm_config_@infra:registry': registry, npm_config_update_notifier: 'false' };
  const since = performance.now();
  await run('npm', ['install', `${name}@${version}`, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: project,
    env: npmEnv,
  });
  const problems = [];
  const installed = readJson(join(project, 'node_modules', ...name.split('/'), 'package.json'));
  if (installed.version !== version) problems.push(`npm installed ${name}@${installed.version}, not ${version}`);
  const scopeDir = join(project, 'node_modules', '@infra');
  const present = new Set(readdirSync(scopeDir).map((entry) => `@infra/${entry}`));
  const expected = runtimeClosure(name, manifests);
  const unexpected = [...present].filter((entry) => !expected.has(entry));
  const missing = [...expected].filter((entry) => !present.has(entry));
  if (unexpected.length > 0) problems.push(`installing it alone also brought ${unexpected.join(', ')}`);
  if (missing.length > 0) problems.push(`its dependencies ${missing.join(', ')} were not installed`);

  const specifiers = Object.keys(manifest.exports ?? { '.': null })
    .filter((key) => key !== './package.json' && !key.includes('*'))
    .map((key) => (key === '.' ? name : `${name}${key.slice(1)}`));
  // Each subpath in turn, in one plain Node process that must also exit by itself.
  const script = [
    `const specifiers = ${JSON.stringify(specifiers)};`,
    'let failed = false;',
    'for (const specifier of specifiers) {',
    '  try {',
    '    const exported = Object.keys(await import(specifier));',
    '    if (exported.length === 0) throw new Error("exports nothing");',
    '    console.log(`import ${specifier}: ${exported.length} exports`);',
    '  } catch (error) {',
    '    failed = true;',
    '    console.log(`import ${specifier} FAILED: ${error instanceof Error ? error.message : String(error)}`);',
    '  }',
    '}',
    'process.exitCode = failed ? 1 : 0;',
  ].join('\n');
  const imported = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: project,
    timeoutMs: 60_000,
    allowFailure: true,
  }).catch((error) => ({ code: 1, output: `${message(error)} (an import left something running?)` }));
  if (imported.code !== 0) problems.push(`plain Node import failed:\n${imported.output.trim()}`);

  const examples = await runExamples(short, project);
  if (problems.length > 0) throw new VerifyError(`${name}@${version}:\n  - ${problems.join('\n  - ')}`);
  say(
    `${name}@${version}: installed alone (${[...present].sort().join(', ')}), ` +
      `${specifiers.length} subpath(s) imported from plain Node, ${examples} (${seconds(since)})`,
  );
}

/**
 * The hook for runnable examples: when examples/<short>/ exists, it is copied into the consumer
 * project, the dependencies its own package.json lists (optional peers such as ioredis) are
 * installed, and every .mjs/.js file in it runs with plain Node and must exit 0.
 */
async function runExamples(short, project) {
  const source = join(root, 'examples', short);
  if (!existsSync(source) || !statSync(source).isDirectory()) return `no examples/${short}/ to run`;
  const target = join(project, 'examples');
  cpSync(source, target, { recursive: true });
  const extra = existsSync(join(source, 'package.json')) ? readJson(join(source, 'package.json')) : {};
  const dependencies = Object.entries(extra.dependencies ?? {})
    .filter(([dep]) => !dep.startsWith('@infra/'))
    .map(([dep, range]) => `${dep}@${range}`);
  if (dependencies.length > 0) {
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...dependencies], { cwd: project });
  }
  const files = readdirSync(target)
    .filter((file) => /\.m?js$/.test(file))
    .sort();
  for (const file of files) {
    await run(process.execPath, [join('examples', file)], { cwd: project, timeoutMs: 120_000 });
  }
  return `examples/${short}/: ${files.length} example(s) ran`;
}

// --- the scratch copy ----------------------------------------------------------------------------------

function copyWorkingTree(target) {
  // The working tree as it is (uncommitted changes and built dist/ included), without its git
  // history and caches. The packages' node_modules hold relative symlinks (to each other and into
  // the root node_modules/.pnpm), which pnpm publish reads to resolve `workspace:` ranges: they are
  // kept, and the root node_modules is linked rather than copied.
  const skipAnywhere = new Set(['.turbo', 'coverage']);
  cpSync(root, target, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => {
      const path = relative(root, source);
      if (path === '.git' || path === 'node_modules') return false;
      return !skipAnywhere.has(basename(source));
    },
  });
  symlinkSync(join(root, 'node_modules'), join(target, 'node_modules'), 'dir');
}

async function git(repo, gitArgs) {
  return run(
    'git',
    [
      '-c',
      'user.name=release-verify',
      '-c',
      'user.email=release-verify@localhost',
      '-c',
      'commit.gpgsign=false',
      ...gitArgs,
    ],
    { cwd: repo },
  );
}

function pendingChangesets(repo) {
  return readdirSync(join(repo, '.changeset')).filter((file) => file.endsWith('.md') && file !== 'README.md');
}

function versions(repo) {
  return new Map(publicPackages(repo).map(({ name, manifest }) => [name, manifest.version]));
}

// --- the run ---------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(changesetBin)) throw new VerifyError(`${changesetBin} is missing: run pnpm install first`);
  const workspacePackages = publicPackages(root);
  const names = workspacePackages.map(({ name }) => name);
  if (!names.includes(options.bump)) {
    throw new VerifyError(`--bump ${options.bump}: not a publishable package (${names.join(', ')})`);
  }

  // pnpm would pack the root LICENSE into a package that lacks one, npm pack would not: each
  // package directory carries its own.
  const missingFiles = workspacePackages.flatMap(({ dir }) =>
    ['LICENSE', 'README.md'].filter((file) => !existsSync(join(root, dir, file))).map((file) => `${dir}/${file}`),
  );
  if (missingFiles.length > 0) throw new VerifyError(`missing from the working tree: ${missingFiles.join(', ')}`);

  const scratch = mkdtempSync(join(tmpdir(), 'infra-release-verify-'));
  cleanups.push(() => {
    if (options.keep) say(`\nkept ${scratch} (--keep)`);
    else rmSync(scratch, { recursive: true, force: true });
  });
  const repo = join(scratch, 'repo');

  if (!options.skipBuild) {
    await step('build (turbo, cached)', () => run('pnpm', ['run', 'build', '--output-logs=errors-only']));
  }

  const registry = await step('start a local registry', async () => {
    const bin = await installVerdaccio();
    return startRegistry(bin, join(scratch, 'registry'));
  });
  // What `changeset publish` and pnpm publish see: @infra published to the local registry with a
  // dummy token (see the registry config), and no provenance (that needs CI's OIDC token).
  const publishEnv = {
    ...process.env,
    'npm_config_@infra:registry': registry,
    [`npm_config_${registry.replace(/^https?:/, '')}:_authToken`]: 'release-verify',
    npm_config_provenance: 'false',
    npm_config_update_notifier: 'false',
    NPM_CONFIG_PROVENANCE: 'false',
  };
  const changeset = (command) =>
    run(process.execPath, [changesetBin, command], { cwd: repo, env: publishEnv, timeoutMs: 600_000 });

  await step('copy the working tree to a scratch repository', async () => {
    copyWorkingTree(repo);
    await git(repo, ['init', '-q', '-b', 'main']);
    await git(repo, ['add', '-A']);
    await git(repo, ['commit', '-q', '-m', 'release:verify snapshot']);
    say(`${repo} (${pendingChangesets(repo).length} pending changesets)`);
  });

  const pending = pendingChangesets(repo);
  const before = versions(repo);
  await step('changeset version (in the scratch copy)', async () => {
    await changeset('version');
    const after = versions(repo);
    const problems = [];
    for (const [name, version] of after) {
      const previous = before.get(name);
      const dir = workspacePackages.find((pkg) => pkg.name === name).dir;
      say(`${name}: ${previous === version ? `${version} (unchanged)` : `${previous} -> ${version}`}`);
      if (previous === version) continue;
      // Not a failure, but worth a look before a real release: changesets bumps a package to the
      // next major when one of its peerDependencies gets more than a patch.
      if (semver.major(version) > semver.major(previous)) {
        say(`  warning: ${name} goes to ${version}: a major changeset, or a bumped package among its peerDependencies`);
      }
      const changelog = join(repo, dir, 'CHANGELOG.md');
      if (!existsSync(changelog))
        problems.push(`${name}: versioned to ${version} but ${dir}/CHANGELOG.md was not written`);
      else {
        const text = readFileSync(changelog, 'utf8');
        if (!text.includes(`## ${version}`))
          problems.push(`${name}: ${dir}/CHANGELOG.md has no "## ${version}" section`);
      }
    }
    const left = pendingChangesets(repo);
    if (left.length > 0) problems.push(`changeset version left ${left.join(', ')} unapplied`);
    if (pending.length > 0 && [...after].every(([name, version]) => before.get(name) === version)) {
      problems.push(`${pending.length} pending changesets bumped no version`);
    }
    if (problems.length > 0) throw new VerifyError(problems.join('\n'));
    if (pending.length === 0) say('no pending changesets: publishing the current versions');
    await git(repo, ['add', '-A']);
    await git(repo, ['commit', '-q', '-m', 'version packages']);
  });

  const released = versions(repo);
  const empty = await registryState(registry, names);
  await step(`changeset publish (${names.length} packages)`, async () => {
    await changeset('publish');
    const added = newlyPublished(empty, await registryState(registry, names));
    const wanted = [...released].map(([name, version]) => `${name}@${version}`).sort();
    if (added.join() !== wanted.join()) {
      throw new VerifyError(`published ${added.join(', ') || 'nothing'}; expected ${wanted.join(', ')}`);
    }
    say(`published ${added.join(', ')}`);
  });

  const manifests = new Map();
  await step('published manifests and tarballs', async () => {
    const failures = [];
    for (const [name, version] of released) {
      const problems = await publishedProblems(registry, name, version, released);
      manifests.set(name, (await packument(registry, name)).versions[version]);
      if (problems.length > 0) failures.push(`${name}@${version}:\n  - ${problems.join('\n  - ')}`);
      else
        say(
          `${name}@${version}: real dependency ranges; LICENSE, README.md, package.json, dist/ and every export target`,
        );
    }
    if (failures.length > 0) throw new VerifyError(failures.join('\n'));
  });

  await step('install each package by name into a fresh project and import it', async () => {
    const consumers = join(scratch, 'consumers');
    const failures = [];
    await inParallel(
      [...released].map(
        ([name, version]) =>
          () =>
            checkConsumer({ name, version, manifest: manifests.get(name), manifests, registry, dir: consumers }).catch(
              (error) => failures.push(message(error)),
            ),
      ),
      3,
    );
    if (failures.length > 0) throw new VerifyError(failures.join('\n'));
  });

  await step('changeset publish again, nothing changed: publishes nothing', async () => {
    const state = await registryState(registry, names);
    await changeset('publish');
    const added = newlyPublished(state, await registryState(registry, names));
    if (added.length > 0) throw new VerifyError(`published ${added.join(', ')} although nothing changed`);
    say('nothing published');
  });

  await step(`a patch changeset for ${options.bump}: releases what changesets says, nothing else`, async () => {
    const { released: expected, inRange } = patchRelease(options.bump, publicPackages(repo));
    for (const [name, why] of expected) say(`expected: ${name} (${why})`);
    for (const entry of inRange) say(`not released: ${entry}`);
    writeFileSync(
      join(repo, '.changeset', 'release-verify-bump.md'),
      `---\n'${options.bump}': patch\n---\n\nrelease:verify: one package bumped alone.\n`,
    );
    await changeset('version');
    const bumped = versions(repo);
    const state = await registryState(registry, names);
    await changeset('publish');
    const added = newlyPublished(state, await registryState(registry, names));
    const wanted = [...expected.keys()].map((name) => `${name}@${bumped.get(name)}`).sort();
    const problems = [];
    if (added.join() !== wanted.join()) {
      problems.push(`published ${added.join(', ') || 'nothing'}; expected exactly ${wanted.join(', ')}`);
    }
    for (const [name, version] of bumped) {
      const moved = version !== released.get(name);
      if (expected.has(name) && version !== semver.inc(released.get(name), 'patch')) {
        problems.push(`${name} went from ${released.get(name)} to ${version}, not to the next patch`);
      }
      if (!expected.has(name) && moved) problems.push(`${name} moved to ${version} although nothing asked for it`);
    }
    for (const name of expected.keys()) {
      const found = await publishedProblems(registry, name, bumped.get(name), bumped);
      if (found.length > 0) problems.push(`${name}@${bumped.get(name)}: ${found.join('; ')}`);
    }
    if (problems.length > 0) throw new VerifyError(problems.join('\n'));
    say(`published ${added.join(', ')}; nothing else`);
  });
}

let exitCode = 0;
try {
  await main();
  say(`\nrelease:verify: all checks passed (${seconds(started)})`);
} catch (error) {
  exitCode = 1;
  const detail = error instanceof VerifyError ? error.message : (error?.stack ?? String(error));
  process.stderr.write(`\nrelease:verify FAILED in "${currentStep}" (${seconds(started)}):\n${detail}\n`);
} finally {
  await cleanUp();
}
process.exit(exitCode);
