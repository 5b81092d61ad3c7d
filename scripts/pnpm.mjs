#!/usr/bin/env node
// Runs the workspace's pinned pnpm (from package.json "packageManager") so that a fresh machine
// needs only Node and npm: `npm start` / `npm test` install the workspace on first use.
//
//   node scripts/pnpm.mjs start        install if needed, build the demo and what it uses, start it
//   node scripts/pnpm.mjs <pnpm args>  install if needed, then `pnpm <pnpm args>`
//
// Each step says what it does and how long it took, so that a first run on a fresh clone (install,
// build, then the demo's migrations) never sits silent.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const wanted = String(packageManager)
  .replace(/^pnpm@/, '')
  .split('+')[0];
const shell = process.platform === 'win32';

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell });
  if (result.error) {
    process.stderr.write(`cannot run ${cmd}: ${result.error.message}\n`);
    return 127;
  }
  return result.status ?? 1;
}

function localPnpm() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8', shell });
  return probe.status === 0 && probe.stdout.trim().split('.')[0] === wanted.split('.')[0];
}

const pnpm = localPnpm() ? ['pnpm', []] : ['npx', ['--yes', `pnpm@${wanted}`]];
const pnpmRun = (args) => run(pnpm[0], [...pnpm[1], ...args]);

const start = process.argv[2] === 'start';
const total = start ? 3 : 2;
let number = 0;
const began = performance.now();

/** Prints `[n/total] title`, runs `action` (which returns an exit status) and prints how it went. */
function step(title, action) {
  number += 1;
  process.stdout.write(`\n[${number}/${total}] ${title}\n`);
  const since = performance.now();
  const status = action();
  const took = `${((performance.now() - since) / 1000).toFixed(1)}s`;
  if (status !== 0) {
    process.stderr.write(`[${number}/${total}] failed after ${took} (exit ${status}): ${title}\n`);
    process.exit(status);
  }
  process.stdout.write(`[${number}/${total}] done in ${took}\n`);
}

if (existsSync(join(root, 'node_modules', '.modules.yaml'))) {
  number += 1;
  process.stdout.write(`[${number}/${total}] workspace already installed (pnpm install to refresh it)\n`);
} else {
  step(`installing the workspace: pnpm install --frozen-lockfile (pnpm ${wanted}, first run only)`, () =>
    pnpmRun(['install', '--frozen-lockfile']),
  );
}

if (!start) {
  const args = process.argv.slice(2);
  process.stdout.write(`\n[${number + 1}/${total}] pnpm ${args.join(' ')}\n`);
  process.exit(pnpmRun(args));
}

step('building the demo and the packages it uses (turbo, cached after the first time)', () =>
  pnpmRun(['exec', 'turbo', 'run', 'build', '--filter=@infra/demo...', '--output-logs=new-only']),
);

number += 1;
process.stdout.write(
  `\n[${number}/${total}] starting the demo (${((performance.now() - began) / 1000).toFixed(1)}s so far): ` +
    'it migrates its database, seeds sample data, then prints its URL\n',
);
// The demo drains and exits on SIGINT/SIGTERM by itself; this process waits for it and passes its
// exit status on, instead of dying first and leaving the shell prompt over the demo's last lines.
const demo = spawn(process.execPath, [join(root, 'apps', 'demo', 'dist', 'main.js')], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // A terminal's Ctrl-C reaches the demo too (same process group); a plain kill does not.
    if (signal === 'SIGTERM') demo.kill(signal);
  });
}
demo.once('error', (error) => {
  process.stderr.write(`cannot start the demo: ${error.message}\n`);
  process.exit(127);
});
demo.once('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
