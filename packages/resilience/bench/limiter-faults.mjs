// The Redis rate limiter through an outage: decisions/s and p99 latency of consume() before Redis
// dies, while it is dead, and after it is back, for each `onStoreError` mode. Runs a redis-server
// of its own on a free port (never the shared one), kills it with SIGKILL and starts it again
// empty. `node bench/limiter-faults.mjs` (dist/ must be built); about 40 s.
import { startBenchRedis } from '@infra/test-utils/bench/private-redis';
import { RateLimiter } from '../dist/index.js';
import { RedisRateLimiterStore } from '../dist/redis/index.js';
import { int, printGrid } from './harness.mjs';

const MODES = ['throw', 'fail-open', 'fail-closed', 'fallback'];
/** Length of the phases before and during the outage (ms; the one after is three times longer), calls in flight. */
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 1500);
const IN_FLIGHT = 16;
const STORE_TIMEOUT_MS = 250;
const STORE_RETRY_MS = 1000;

/** Calls consume() from IN_FLIGHT loops for PHASE_MS; latencies in ms, and how many answers were degraded. */
async function phase(limiter, degraded, phaseMs = PHASE_MS) {
  const latencies = [];
  const before = degraded.count;
  const end = performance.now() + phaseMs;
  let n = 0;
  const loop = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      await limiter.consume(`user:${n++ % 256}`).catch(() => undefined);
      latencies.push(performance.now() - start);
      // Requests reach a server through I/O: let timers and sockets run between calls, as they would.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: (latencies.length / elapsed) * 1000,
    p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0,
    max: latencies.at(-1) ?? 0,
    degraded: latencies.length === 0 ? 0 : (degraded.count - before) / latencies.length,
  };
}

const redis = await startBenchRedis();
const rows = [];
try {
  for (const mode of MODES) {
    const store = new RedisRateLimiterStore({ connection: redis.url, prefix: `bench:faults:${mode}:` });
    const limiter = new RateLimiter({
      name: mode,
      limit: 1_000_000,
      windowMs: 60_000,
      store,
      onStoreError: mode,
      storeTimeoutMs: STORE_TIMEOUT_MS,
      storeRetryMs: STORE_RETRY_MS,
    });
    const degraded = { count: 0 };
    limiter.on('storeError', () => degraded.count++);
    let recoveredAt;
    limiter.on('storeRecovered', () => {
      recoveredAt = performance.now();
    });
    // One call connects the store's client, so that `before` measures a running store.
    await limiter.consume('warm-up').catch(() => undefined);
    const results = { before: await phase(limiter, degraded) };
    await redis.kill();
    results.during = await phase(limiter, degraded);
    await redis.start();
    const restartedAt = performance.now();
    // Long enough for the client's reconnect backoff (at most 2 s) and one storeRetryMs.
    results.after = await phase(limiter, degraded, 3 * PHASE_MS);
    const recoveryMs = recoveredAt === undefined ? 'not within the phase' : int(recoveredAt - restartedAt);
    for (const [name, r] of Object.entries(results)) {
      rows.push([
        mode,
        name,
        int(r.perSecond),
        r.p99.toFixed(1),
        r.max.toFixed(1),
        `${(r.degraded * 100).toFixed(1)}%`,
        name === 'after' ? recoveryMs : '',
      ]);
    }
    await limiter.close();
    await store.close();
  }
} finally {
  await redis.close();
}

console.log(
  `Rate limiter through a Redis outage: ${IN_FLIGHT} calls in flight, ` +
    `phases of ${PHASE_MS} ms (after: ${3 * PHASE_MS}), ` +
    `storeTimeoutMs ${STORE_TIMEOUT_MS}, storeRetryMs ${STORE_RETRY_MS}; node ${process.version}`,
);
printGrid(
  'consume() before / during (Redis killed) / after (restarted empty) the outage',
  ['onStoreError', 'phase', 'calls/s', 'p99 ms', 'max ms', 'answered without store', 'store back after ms'],
  rows,
  [false, false, true, true, true, true, true],
);
