// Publish→handle through Redis Streams before, during and after a restart of Redis with its data
// lost, on a redis-server of its own (the shared one is never touched). Prints throughput and p99
// per phase, the recovery time, and the messages lost (must be 0). About 20 s.
// `node bench/faults.mjs` after `pnpm --filter @infra/messaging build`. BENCH_RATE: messages a second (2000).
import { startBenchRedis } from '@infra/test-utils/bench/private-redis';
import { MessageBus } from '../dist/index.js';
import { createRedisAdapter } from '../dist/redis/index.js';
import { fmt, percentile, until } from './stats.mjs';

const RATE = Number(process.env.BENCH_RATE ?? 2000);
const PHASE_MS = 5000;
const TICK_MS = 10;

const server = await startBenchRedis();
const adapter = await createRedisAdapter({ connection: server.url, blockMs: 200, connectTimeoutMs: 1000 });
const bus = new MessageBus({ adapter, lagIntervalMs: 0, healthTimeoutMs: 500 });
const phases = ['before', 'during', 'after'];
const latencies = Object.fromEntries(phases.map((p) => [p, new Float64Array(RATE * 20)]));
const handledIn = Object.fromEntries(phases.map((p) => [p, 0]));
const accepted = new Set();
const handled = new Set();
let phase = 'before';
let rejected = 0;
let restartedAt = 0;
let firstAfterRestart = 0;

await bus
  .subscribe(
    'bench.faults',
    (payload) => {
      if (handled.has(payload.seq)) return;
      handled.add(payload.seq);
      const now = performance.now();
      latencies[payload.phase][handledIn[payload.phase]++] = now - payload.sentAt;
      if (restartedAt > 0 && firstAfterRestart === 0 && payload.sentAt >= restartedAt) firstAfterRestart = now;
    },
    { group: 'bench', concurrency: 16, maxInFlight: 512 },
  )
  .ready();

// Open loop: RATE messages a second whatever happens; a rejected publish is retried by the next tick.
let seq = 0;
const backlog = [];
const ticker = setInterval(() => {
  for (let i = 0; i < (RATE * TICK_MS) / 1000; i++) backlog.push({ seq: seq++, phase });
  const batch = backlog.splice(0);
  const sentAt = performance.now();
  bus.publishBatch(batch.map((m) => ({ topic: 'bench.faults', payload: { ...m, sentAt } }))).then(
    () => batch.forEach((m) => accepted.add(m.seq)),
    () => {
      rejected += batch.length;
      backlog.unshift(...batch);
    },
  );
}, TICK_MS);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const phaseStart = {};
phaseStart.before = performance.now();
await sleep(PHASE_MS);
phase = 'during';
phaseStart.during = performance.now();
await server.kill();
await server.start();
restartedAt = performance.now();
let healthBackMs = -1;
await until(async () => (await bus.healthCheck()).status === 'pass', 30_000, 20);
healthBackMs = performance.now() - restartedAt;
await sleep(Math.max(0, phaseStart.during + 3000 - performance.now()));
phase = 'after';
phaseStart.after = performance.now();
await sleep(PHASE_MS);
clearInterval(ticker);
await until(() => backlog.length === 0 || rejected < 0, 5000, 20).catch(() => undefined);
await until(() => [...accepted].every((s) => handled.has(s)), 15_000, 50).catch(() => undefined);
const lost = [...accepted].filter((s) => !handled.has(s)).length;
const end = performance.now();

const rows = phases.map((p, i) => {
  const until_ = i < 2 ? phaseStart[phases[i + 1]] : end;
  return {
    phase: p,
    'handled msg/s': fmt(handledIn[p] / ((until_ - phaseStart[p]) / 1000)),
    'p50 ms': percentile(latencies[p], handledIn[p], 50).toFixed(1),
    'p99 ms': percentile(latencies[p], handledIn[p], 99).toFixed(1),
  };
});
console.table(rows);
console.log(
  `offered ${fmt(RATE)} msg/s; accepted ${fmt(accepted.size)}, handled ${fmt(handled.size)}, lost ${lost}; ` +
    `publishes rejected while Redis was away (retried): ${fmt(rejected)}`,
);
console.log(
  `first message published after the restart handled ${(firstAfterRestart - restartedAt).toFixed(0)} ms ` +
    `after Redis was back; health back to pass after ${healthBackMs.toFixed(0)} ms`,
);
await bus.close({ timeoutMs: 1000 });
await server.close();
if (lost > 0) process.exitCode = 1;
