// What tracing costs the resilience policies, in one process, on the built package (dist/): each
// call with @opentelemetry/api hidden (as if not installed), with the API installed but no SDK,
// and with a recording SDK (batch processor, exporting to nowhere) and no span around the call.
// Only deadlines look for the active span on every call; breakers, retries and rate limiters add
// events only when something happens (a state change, a retry, a refusal), measured here by the
// rejections of an open breaker.
// Run: node --expose-gc bench/telemetry.mjs   (after `pnpm --filter @infra/resilience build`)
import { existsSync } from 'node:fs';
import { hideOtelApi } from '@infra/core/testing';
import { telemetryModes } from '@infra/test-utils/bench/telemetry-modes';
import { measure, printTable } from './harness.mjs';
import { work } from './peers.mjs';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('@infra/resilience is not built: run `pnpm --filter @infra/resilience build` first');
  process.exit(1);
}
const { CircuitBreaker, TimeoutPolicy } = await import('../dist/index.js');

const modes = telemetryModes(hideOtelApi);
const breaker = new CircuitBreaker('bench');
const timedBreaker = new CircuitBreaker('bench-timed', { timeoutMs: 10_000 });
const timeoutPolicy = new TimeoutPolicy(10_000);
const openBreaker = new CircuitBreaker('bench-open');
openBreaker.open();
const refused = () => openBreaker.execute(work).catch(() => undefined);

const setups = { 'API not installed': modes.absent, 'API, no SDK': modes.noSdk, SDK: modes.sdk };
const operations = {
  'breaker execute': () => breaker.execute(work),
  'breaker execute, timeoutMs': () => timedBreaker.execute(work),
  'timeout execute': () => timeoutPolicy.execute(work),
  'open breaker rejection': refused,
};
const tasks = [];
const baseline = new Map(); // task name → the same operation's "API not installed" task name
for (const [operation, call] of Object.entries(operations)) {
  for (const [mode, setup] of Object.entries(setups)) {
    tasks.push({ name: `${operation}, ${mode}`, call, setup });
    baseline.set(`${operation}, ${mode}`, `${operation}, API not installed`);
  }
}
const rows = await measure('telemetry', tasks);
modes.absent();
const byName = new Map(rows.map((row) => [row.name, row]));
printTable('Resilience calls with and without tracing (sequential calls)', rows, {
  'vs API not installed': (row) => byName.get(baseline.get(row.name)),
});
