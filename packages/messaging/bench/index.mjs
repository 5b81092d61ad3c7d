// @infra/messaging benchmarks, on the built package (dist/) against real Redis and Postgres.
// `pnpm --filter @infra/messaging bench` expects dist/ to be current (run the build first).
// BENCH_COUNT scales the runs (default 100_000 messages); BENCH_ROUNDS sets rounds per figure.
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('@infra/messaging is not built: run `pnpm --filter @infra/messaging build` first');
  process.exit(1);
}

const { eventEmitterBaseline, memoryPublishHandle, redisConsume, redisPublish, redisPublishHandle } =
  await import('./throughput.mjs');
const { outboxRelay } = await import('./outbox.mjs');
const { killConsumer } = await import('./kill-consumer.mjs');
const { fmt } = await import('./stats.mjs');

const count = Number(process.env.BENCH_COUNT ?? 100_000);
const prefix = `bench:messaging:${process.pid}:`;
const rows = [];
const verdicts = [];
// Rates are the best measured round after warm-up rounds; the median of the measured rounds is shown beside.
const row = (scenario, ours, peer, extra = '') =>
  rows.push({
    scenario,
    'ours msg/s': fmt(ours.rate),
    'ours median': ours.median === undefined ? '' : fmt(ours.median),
    'peer msg/s': peer === undefined ? '' : fmt(peer.rate),
    'ours/peer': peer === undefined ? '' : (ours.rate / peer.rate).toFixed(2),
    note: extra,
  });
const target = (what, value, goal) =>
  verdicts.push(`${value >= goal ? 'MET ' : 'MISS'} ${what}: ${fmt(value)} msg/s (target ≥ ${fmt(goal)})`);

console.log(`@infra/messaging benchmarks: ${fmt(count)} messages per run, Node ${process.version}\n`);

const memory = await memoryPublishHandle(count);
const emitter = await eventEmitterBaseline(count);
row(
  'memory publish→handle',
  memory,
  emitter,
  `vs EventEmitter + JSON; p50 ${memory.p50.toFixed(2)} ms, p99 ${memory.p99.toFixed(2)} ms`,
);
target('memory publish→handle', memory.rate, 300_000);

const publish = await redisPublish(count, prefix);
row('redis batched publish (1000/batch)', publish.ours, publish.raw, 'vs raw ioredis pipelined XADD');
target('redis batched publish', publish.ours.rate, 100_000);

const consume = await redisConsume(count, prefix);
row('redis consume + ack', consume.ours, consume.raw, 'vs raw ioredis XREADGROUP + XACK loop');
target('redis consume + ack', consume.ours.rate, 50_000);

const e2e = await redisPublishHandle(Math.min(count, 50_000), prefix);
row('redis publish→handle (live)', e2e, undefined, `p50 ${e2e.p50.toFixed(1)} ms, p99 ${e2e.p99.toFixed(1)} ms`);

const outbox = await outboxRelay(Math.min(count, 20_000));
row('outbox relay (Postgres → memory bus)', outbox, undefined, 'rows/s, 500 rows per transaction');

console.table(rows);
for (const line of verdicts) console.log(line);

const kill = await killConsumer(Math.min(count, 20_000));
console.log(
  `\nconsumer SIGKILLed mid-stream: ${fmt(kill.count)} published, killed after ${fmt(kill.killedAt)} handled; ` +
    `${fmt(kill.handled)} handled in the end, ${kill.lost} lost, ` +
    `${fmt(kill.duplicates)} redelivered duplicates, ${kill.pending} left pending`,
);
console.log(kill.lost === 0 ? 'MET  zero messages lost' : `MISS ${kill.lost} messages lost`);

const cleanup = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = await cleanup.keys(`${prefix}*`);
if (keys.length > 0) await cleanup.del(...keys);
await cleanup.quit();
