// @infra/monitoring and @infra/health benchmarks, run on the built packages (dist/).
// `pnpm --filter @infra/monitoring bench` expects dist/ of both packages to be current.
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('@infra/monitoring is not built: run `pnpm --filter @infra/monitoring... build` first');
  process.exit(1);
}

const { benchHttpOverhead } = await import('./http-overhead.mjs');
const { benchReadyLatency } = await import('./ready-latency.mjs');
const { verdicts } = await import('./harness.mjs');

console.log(
  `@infra/monitoring benchmarks: node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores, ` +
    `load average ${loadavg()[0].toFixed(1)} (latency targets assume an otherwise idle machine)`,
);
const started = performance.now();
await benchHttpOverhead();
await benchReadyLatency();
console.log(`\nVerdicts (@infra/monitoring, ${((performance.now() - started) / 1000).toFixed(0)} s):`);
for (const line of verdicts) console.log(`  ${line}`);
