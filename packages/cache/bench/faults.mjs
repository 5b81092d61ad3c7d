// Fault benchmark of the Redis-backed caches: a steady getOrSet load (a loader standing for the
// database) before, during and after a Redis outage (a private redis-server killed, then started
// again empty). For each cache: throughput, p99 latency and loader calls per phase, and what the
// outage lost. Run after `pnpm build`, with redis-server on the PATH:
//
//   node bench/faults.mjs            (BENCH_PHASE_MS=2500 by default: three phases per cache)
//
// Compared in the same run: the tiered cache (memory in front of Redis), the same tiered cache
// with `l1.outageMaxAgeMs: 0` (memory bypassed during an outage, as before 0.2), and the Redis
// cache alone. The shared Redis is never touched.
import { startBenchRedis } from '@infra/test-utils/bench/private-redis';
import { RedisCacheService, TieredCacheService } from '../dist/redis/index.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 2500);
const WORKERS = 32;
const KEYS = 500;
const LOADER_MS = 2;

const server = await startBenchRedis();
const variants = [
  ['tiered', (prefix) => new TieredCacheService('bench', options(prefix))],
  [
    'tiered, L1 off in outages',
    (prefix) => new TieredCacheService('bench', { ...options(prefix), l1: { outageMaxAgeMs: 0 } }),
  ],
  ['redis only', (prefix) => new RedisCacheService('bench', options(prefix))],
];
const results = [];
try {
  for (const [name, create] of variants) results.push(await run(name, create));
} finally {
  await server.close();
}
print(results);

function options(prefix) {
  return {
    connection: server.url,
    keyPrefix: prefix,
    commandTimeoutMs: 500,
    connectTimeoutMs: 5000,
    breaker: { consecutiveFailures: 3, resetTimeout: 500 },
  };
}

async function run(name, create) {
  const cache = create(`bench:${Math.random().toString(36).slice(2)}:`);
  await cache.start();
  let loads = 0;
  let errors = 0;
  cache.on('error', () => errors++);
  const loader = async ({ key }) => {
    loads++;
    await new Promise((resolve) => setTimeout(resolve, LOADER_MS));
    return { key, at: Date.now() };
  };
  // Warm every key once, so that "before" is a steady state.
  for (let i = 0; i < KEYS; i++) await cache.getOrSet(`k${i}`, loader, { ttl: 300 });
  const phases = [];
  const phase = async (label) => {
    loads = 0;
    errors = 0;
    const latencies = [];
    const distinct = new Set();
    const until = performance.now() + PHASE_MS;
    let failures = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (performance.now() < until) {
          const key = `k${zipf()}`;
          distinct.add(key);
          const started = performance.now();
          try {
            await cache.getOrSet(key, loader, { ttl: 300 });
          } catch {
            failures++;
          }
          latencies.push(performance.now() - started);
          // Requests arrive through I/O: let timers and sockets (reconnects) run between calls.
          if (latencies.length % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    phases.push({
      label,
      opsPerSec: (latencies.length / PHASE_MS) * 1000,
      p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      loads,
      distinct: distinct.size,
      failures,
      errors,
    });
  };
  await phase('before');
  await server.kill();
  const killed = performance.now();
  const seenDown = (await cache.checkHealth()).status === 'down' ? performance.now() - killed : undefined;
  await phase('during (Redis killed)');
  await server.start();
  const restarted = performance.now();
  let seenUp;
  const watch = (async () => {
    while (seenUp === undefined && performance.now() - restarted < PHASE_MS) {
      if ((await cache.checkHealth()).status === 'up') seenUp = performance.now() - restarted;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await phase('after (restarted empty)');
  await watch;
  await cache.close();
  return { name, phases, seenDown, seenUp };
}

/** A skewed key: a few keys are hot, as on a real site. */
function zipf() {
  return Math.min(KEYS - 1, Math.floor(KEYS * Math.random() ** 3));
}

function print(results) {
  console.log(`\n@infra/cache under a Redis outage: ${WORKERS} concurrent getOrSet callers, ${KEYS} keys (skewed),`);
  console.log(`loader ${LOADER_MS} ms, ${PHASE_MS} ms per phase; "lost" = cached entries gone with the restart\n`);
  console.log(
    'cache                      | phase                   |   ops/s |  p99 ms | loader calls | keys read | failed',
  );
  console.log(
    '-------------------------- | ----------------------- | ------- | ------- | ------------ | --------- | ------',
  );
  for (const { name, phases } of results) {
    for (const p of phases) {
      console.log(
        `${name.padEnd(26)} | ${p.label.padEnd(23)} | ${fmt(p.opsPerSec, 7)} | ${p.p99.toFixed(2).padStart(7)} | ${String(p.loads).padStart(12)} | ${String(p.distinct).padStart(9)} | ${String(p.failures).padStart(6)}`,
      );
    }
  }
  const during = (name) => results.find((r) => r.name === name)?.phases[1];
  const tiered = during('tiered');
  const bypass = during('tiered, L1 off in outages');
  const redis = during('redis only');
  console.log('\nduring the outage:');
  if (tiered && bypass) {
    console.log(
      `  loader calls, tiered vs L1 off in outages: ${tiered.loads} vs ${bypass.loads} (${ratio(bypass.loads, tiered.loads)} fewer)`,
    );
    console.log(`  loader calls per distinct key read, tiered: ${(tiered.loads / tiered.distinct).toFixed(2)}`);
    console.log(`  throughput, tiered / L1 off: ${ratio(tiered.opsPerSec, bypass.opsPerSec)}`);
  }
  if (tiered && redis) console.log(`  throughput, tiered / redis only: ${ratio(tiered.opsPerSec, redis.opsPerSec)}`);
  for (const { name, seenDown, seenUp } of results) {
    const down = seenDown === undefined ? 'not seen' : `${seenDown.toFixed(0)} ms`;
    const up = seenUp === undefined ? `not within ${PHASE_MS} ms` : `${seenUp.toFixed(0)} ms`;
    console.log(`health of ${name}: down ${down} after the kill; up ${up} after the restart (no app restart)`);
  }
  console.log(
    'lost: every cached entry (the restarted server is empty); no caller failed, the loader answered instead',
  );
}

function fmt(value, width) {
  return Math.round(value).toLocaleString('en-US').padStart(width);
}

function ratio(a, b) {
  return b === 0 ? 'n/a' : `${(a / b).toFixed(1)}×`;
}
