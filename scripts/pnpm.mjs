#!/usr/bin/env node
// Runs the workspace's pinned pnpm (from package.json "packageManager") so that a fresh machine
// needs only Node and npm: `npm start` / `npm test` install the workspace on first use.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const wanted = String(packageManager)
  .replace(/^pnpm@/, '')
  .split('+')[0];

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) return { status: 127, error: result.error };
  return { status: result.status ?? 1 };
}

function localPnpm() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8', shell: process.platform === 'win32' });
  return probe.status === 0 && probe.stdout.trim().split('.')[0] === wanted.split('.')[0];
}

const pnpm = localPnpm() ? ['pnpm', []] : ['npx', ['--yes', `pnpm@${wanted}`]];
const pnpmRun = (args) => run(pnpm[0], [...pnpm[1], ...args]);

if (!existsSync(join(root, 'node_modules', '.modules.yaml'))) {
  const install = pnpmRun(['install', '--frozen-lockfile']);
  if (install.status !== 0) process.exit(install.status);
}
process.exit(pnpmRun(process.argv.slice(2)).status);
