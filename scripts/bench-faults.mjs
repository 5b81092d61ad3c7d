#!/usr/bin/env node
// Runs the fault benchmarks of the packages that have one, one after the other (each prints its
// own table): a package without one is skipped, so the command works whatever is merged.
//
//   node scripts/bench-faults.mjs   (after `pnpm build`; needs Redis, Postgres and redis-server)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const candidates = [
  'packages/cache/bench/faults.mjs',
  'packages/persistence/bench/faults.mjs',
  'packages/resilience/bench/faults.mjs',
  'packages/resilience/bench/limiter-faults.mjs',
  'packages/messaging/bench/faults.mjs',
];

let failed = 0;
for (const file of candidates) {
  const path = join(root, file);
  if (!existsSync(path)) {
    console.log(`- ${file}: not present, skipped`);
    continue;
  }
  console.log(`\n== ${file}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--expose-gc', path], { cwd: dirname(dirname(path)), stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.status !== 0) {
    failed++;
    console.log(`!! ${file} failed (exit ${run.status ?? run.signal}) after ${seconds} s`);
  } else console.log(`== ${file}: ${seconds} s`);
}
process.exitCode = failed > 0 ? 1 : 0;
