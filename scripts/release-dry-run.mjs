#!/usr/bin/env node
// Verifies a release locally without publishing anything: what `changeset status` plans, a
// build, then `pnpm publish --dry-run` for every publishable package, printing name@version and
// the files its tarball would hold. Exits non-zero on the first broken step, or after listing
// every package whose tarball is wrong. `--skip-build` reuses the dist/ folders already built.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(args, { cwd = root, capture = false } = {}) {
  const result = spawnSync('pnpm', args, {
    cwd,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    shell: process.platform === 'win32',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`cannot run pnpm ${args.join(' ')}: ${result.error.message}`);
  return result;
}

function step(title, action) {
  process.stdout.write(`\n==> ${title}\n`);
  const started = performance.now();
  const ok = action();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`<== ${title}: ${ok ? 'ok' : 'FAILED'} (${seconds}s)\n`);
  if (!ok) {
    process.stderr.write(`\nrelease dry run failed at: ${title}\n`);
    process.exit(1);
  }
}

// Every file path an exports map names (wildcard targets are left to publint).
function exportTargets(exports) {
  if (typeof exports === 'string') return exports.includes('*') ? [] : [exports.replace(/^\.\//, '')];
  if (Array.isArray(exports)) return exports.flatMap(exportTargets);
  if (exports && typeof exports === 'object') return Object.values(exports).flatMap(exportTargets);
  return [];
}

function formatSize(bytes) {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${bytes} B`;
}

// Problems `pnpm publish` itself would not stop: a file the exports map names but the tarball
// lacks, and a dependency on a private workspace package, which no registry will ever hold.
function tarballProblems(manifest, report, workspace) {
  const problems = [];
  const files = new Set(report.files.map((file) => file.path));
  for (const target of exportTargets(manifest.exports)) {
    if (!files.has(target))
      problems.push(`exports names ${target}, which the tarball does not hold (built? covered by "files"?)`);
  }
  if (manifest.exports === undefined) problems.push('has no "exports" map');
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (workspace.get(name)?.private === true) problems.push(`${field} names the private workspace package ${name}`);
    }
  }
  return problems;
}

const unknown = process.argv.slice(2).filter((arg) => arg !== '--skip-build');
if (unknown.length > 0) {
  process.stderr.write(`unknown argument(s): ${unknown.join(' ')} (only --skip-build is accepted)\n`);
  process.exit(2);
}
step('changeset status', () => run(['exec', 'changeset', 'status', '--verbose']).status === 0);
if (!process.argv.includes('--skip-build')) step('build', () => run(['run', 'build']).status === 0);

const listing = run(['-r', 'ls', '--depth', '-1', '--json'], { capture: true });
if (listing.status !== 0) {
  process.stderr.write(`pnpm -r ls failed:\n${listing.stderr}\n`);
  process.exit(1);
}
const workspace = new Map(JSON.parse(listing.stdout).map((pkg) => [pkg.name, pkg]));
const publishable = [...workspace.values()].filter((pkg) => pkg.private !== true && pkg.path !== root);
if (publishable.length === 0) {
  process.stderr.write('no publishable package found in the workspace\n');
  process.exit(1);
}

const failed = [];
const published = [];
step(`pnpm publish --dry-run (${publishable.length} packages)`, () => {
  for (const pkg of publishable) {
    const where = relative(root, pkg.path);
    const result = run(['publish', '--dry-run', '--no-git-checks', '--json'], { cwd: pkg.path, capture: true });
    if (result.status !== 0) {
      failed.push(
        `${pkg.name} (${where}): pnpm publish --dry-run exited with ${result.status}\n${result.stderr.trim()}`,
      );
      continue;
    }
    let report;
    try {
      const parsed = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
      report = parsed[pkg.name] ?? parsed;
    } catch (error) {
      failed.push(`${pkg.name} (${where}): unreadable pnpm publish report: ${error.message}`);
      continue;
    }
    const manifest = JSON.parse(readFileSync(join(pkg.path, 'package.json'), 'utf8'));
    process.stdout.write(
      `\n${report.name}@${report.version}  ${formatSize(report.size)} packed, ${formatSize(report.unpackedSize)} unpacked, ${report.files.length} files (${where})\n`,
    );
    for (const file of report.files) process.stdout.write(`  ${formatSize(file.size).padStart(9)}  ${file.path}\n`);
    const problems = tarballProblems(manifest, report, workspace);
    if (report.name !== pkg.name || report.version !== manifest.version) {
      problems.push(`pnpm would publish ${report.name}@${report.version}, not ${pkg.name}@${manifest.version}`);
    }
    if (problems.length > 0) failed.push(`${pkg.name}@${manifest.version} (${where}):\n  - ${problems.join('\n  - ')}`);
    else published.push(`${report.name}@${report.version}`);
  }
  return true;
});

process.stdout.write(
  `\nWould publish ${published.length} of ${publishable.length} packages (changeset publish skips versions already on the registry):\n`,
);
for (const id of published) process.stdout.write(`  ${id}\n`);
if (failed.length > 0) {
  process.stderr.write(
    `\n${failed.length} package(s) cannot be released as they are:\n${failed.map((f) => `- ${f}`).join('\n')}\n`,
  );
  process.exit(1);
}
