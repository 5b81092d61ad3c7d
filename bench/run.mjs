#!/usr/bin/env node
// Runs the benchmarks of every workspace package that declares a "bench" script, one process per
// package (so that one package's JIT and heap state cannot skew another's figures), and prints a
// summary. `pnpm bench` builds first; `pnpm bench resilience` runs only the packages whose name
// or folder contains "resilience".
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const filters = process.argv.slice(2);

/** Workspace packages with a "bench" script, in folder order. */
function benchmarked() {
  const found = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      const dir = join(base, entry.name);
      const manifest = join(dir, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      const script = pkg.scripts?.bench;
      if (typeof script !== 'string') continue;
      const folder = relative(root, dir);
      const name = typeof pkg.name === 'string' ? pkg.name : folder;
      if (filters.length > 0 && !filters.some((f) => name.includes(f) || folder.includes(f))) continue;
      found.push({ name, folder, dir, script });
    }
  }
  return found;
}

/** Runs a package's bench script as `pnpm run bench` would: in its folder, its bins on PATH. */
function run({ dir, script }) {
  const bins = [join(dir, 'node_modules', '.bin'), join(root, 'node_modules', '.bin')];
  const env = { ...process.env, PATH: [...bins, process.env.PATH ?? ''].join(delimiter) };
  return new Promise((resolve) => {
    const child = spawn(script, { cwd: dir, env, stdio: 'inherit', shell: true });
    child.on('error', (error) => {
      console.error(error.message);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const packages = benchmarked();
if (packages.length === 0) {
  console.error(
    filters.length > 0
      ? `No package with a "bench" script matches ${filters.map((f) => `"${f}"`).join(', ')}`
      : 'No workspace package declares a "bench" script',
  );
  process.exit(1);
}

const summary = [];
for (const pkg of packages) {
  console.log(`\n=== ${pkg.name} (${pkg.folder}): ${pkg.script} ===`);
  const started = performance.now();
  const code = await run(pkg);
  summary.push({ ...pkg, code, seconds: (performance.now() - started) / 1000 });
}

console.log('\n=== Benchmarks run ===');
for (const { name, code, seconds } of summary) {
  console.log(`${code === 0 ? 'ok    ' : `failed (exit ${code})`}  ${name}  ${seconds.toFixed(0)} s`);
}
process.exitCode = summary.some(({ code }) => code !== 0) ? 1 : 0;
