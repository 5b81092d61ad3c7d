// @infra/openai benchmarks, on the built package (dist/): run `pnpm --filter @infra/openai build`
// first, then `pnpm --filter @infra/openai bench`.
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('@infra/openai is not built: run `pnpm --filter @infra/openai build` first');
  process.exit(1);
}
const { benchOverhead, CONTROL } = await import('./overhead.mjs');
const { VERSION } = await import('openai/version');

const pad = (cells, widths, right) =>
  cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
function table(title, header, body, right) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  console.log(`\n${title}`);
  console.log(pad(header, widths, right));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(pad(row, widths, right));
}

console.log(
  `@infra/openai benchmarks: node ${process.version}, ${process.platform}/${process.arch}, openai SDK ${VERSION}`,
);

const overhead = await benchOverhead();
table(
  '1. Per-call cost: wall µs (best round, median) and CPU µs of this process (median); ratios = median of per-round ratios to the bare SDK',
  ['transport', 'in flight', 'client', 'wall best', 'wall median', 'wall ratio', 'CPU µs', 'CPU ratio'],
  overhead.map((r) => [
    r.transport,
    String(r.inFlight),
    r.name,
    r.us.toFixed(1),
    r.median.toFixed(1),
    `${r.ratio.toFixed(3)}x`,
    r.cpu.toFixed(1),
    `${r.cpuRatio.toFixed(3)}x`,
  ]),
  [false, true, false, true, true, true, true, true],
);
const local = overhead.filter((r) => r.transport === 'local HTTP' && r.name !== CONTROL);
const control = overhead.filter((r) => r.transport === 'local HTTP' && r.name === CONTROL);
const worstWall = Math.max(...local.map((r) => r.ratio));
const worstCpu = Math.max(...local.map((r) => r.cpuRatio));
const spread = (key) => Math.max(...control.map((r) => Math.abs(r[key] - 1)));
console.log(
  `resolution: the A/A control (the bare SDK against itself) is off by up to ${(spread('ratio') * 100).toFixed(1)} % (wall clock) and ${(spread('cpuRatio') * 100).toFixed(1)} % (CPU) in this run`,
);
console.log(
  `verdict: ${worstWall <= 1.05 ? 'MET' : 'NOT MET'}  overhead <= 5% against the local server (wall clock): worst ratio ${worstWall.toFixed(3)}x`,
);
console.log(
  `verdict: ${worstCpu <= 1.05 ? 'MET' : 'NOT MET'}  overhead <= 5% against the local server (CPU time): worst ratio ${worstCpu.toFixed(3)}x`,
);
