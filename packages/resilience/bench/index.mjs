// @infra/resilience benchmarks against cockatiel and opossum, run on the built package (dist/).
// `pnpm bench` at the workspace root builds first; `pnpm --filter @infra/resilience bench` runs
// only this package and expects dist/ to be current.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('@infra/resilience is not built: run `pnpm --filter @infra/resilience build` first');
  process.exit(1);
}

const { benchBreaker, benchBreakerWithTimeout } = await import('./breaker.mjs');
const { CLOCK } = await import('./harness.mjs');
const { benchRetry } = await import('./retry.mjs');
const { benchComposed } = await import('./composed.mjs');
const { benchMemory } = await import('./memory.mjs');
const { benchRedisRateLimiter } = await import('./redis-rate-limiter.mjs');
const { verdicts } = await import('./harness.mjs');

/** Installed version of a dependency; some do not export their package.json, so walk up from the entry. */
function version(name) {
  for (let dir = dirname(fileURLToPath(import.meta.resolve(name))); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.name === name) return String(pkg.version);
  }
  return 'unknown';
}

/** Cost of a clock read (best of three): on virtual machines it can outweigh a breaker's bookkeeping. */
function clockCostNs() {
  const reads = 200_000;
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (let i = 0; i < reads; i++) sink += Date.now() & 1;
    best = Math.min(best, performance.now() - start);
  }
  return sink >= 0 ? (best * 1e6) / reads : 0;
}

console.log(
  `@infra/resilience benchmarks: node ${process.version}, ${process.platform}/${process.arch}; ` +
    `cockatiel ${version('cockatiel')}, opossum ${version('opossum')}, ` +
    `tinybench ${version('tinybench')}, ioredis ${version('ioredis')}`,
);
console.log(`clock: one Date.now() costs ${clockCostNs().toFixed(0)} ns here (breakers read the clock per call)`);
const clockNote =
  CLOCK === 'cpu' ? 'CPU time of this process (BENCH_CLOCK=cpu)' : 'wall time (BENCH_CLOCK=cpu: CPU time)';
console.log(`timing: ${clockNote}`);
console.log("ratio columns: this row's ops/s divided by the named row's ops/s (above 1.00x = faster)");

/** Every section by the name `BENCH_SECTIONS` (comma-separated) picks it with; all run when it is unset. */
const sections = {
  breaker: benchBreaker,
  'breaker-timeout': benchBreakerWithTimeout,
  retry: benchRetry,
  composed: benchComposed,
  memory: benchMemory,
  redis: benchRedisRateLimiter,
};
const picked = (process.env.BENCH_SECTIONS ?? '').split(',').filter((name) => name !== '');
for (const name of picked) {
  if (!(name in sections)) {
    console.error(`unknown section "${name}" in BENCH_SECTIONS; known: ${Object.keys(sections).join(', ')}`);
    process.exit(1);
  }
}

const started = performance.now();
for (const [name, section] of Object.entries(sections)) {
  if (picked.length > 0 && !picked.includes(name)) continue;
  const sectionStart = performance.now();
  await section();
  console.log(`(${section.name}: ${((performance.now() - sectionStart) / 1000).toFixed(1)} s)`);
}

console.log(`\nVerdicts (@infra/resilience, ${((performance.now() - started) / 1000).toFixed(0)} s):`);
for (const line of verdicts) console.log(`  ${line}`);
