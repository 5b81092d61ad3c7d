// Request overhead of the edge plugins on a Fastify route, against the bare route and against
// their common peers, measured in the same run with interleaved rounds:
//   rateLimitPlugin (memory RateLimiter)  vs  @fastify/rate-limit (its memory store)
//   loadSheddingPlugin (pool gauge + event-loop delay)  vs  @fastify/under-pressure (event-loop delay)
//   idempotencyPlugin (memory store, requests without a key: the cost every request pays)
// BENCH_DURATION (s, default 2), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 20).
import fastifyRateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import { MemoryRateLimiterStore, RateLimiter } from '@infra/resilience';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { MemoryIdempotencyStore } from '../dist/index.js';
import { idempotencyPlugin, loadSheddingPlugin, rateLimitPlugin } from '../dist/fastify/index.js';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
// Large budgets: the benchmark measures the bookkeeping of admitted requests, never a 429.
const LIMIT = 1_000_000_000;

const variants = {
  bare: async () => Fastify(),
  '@infra/api rateLimitPlugin': async (app) => {
    const limiter = new RateLimiter({
      name: 'bench',
      limit: LIMIT,
      windowMs: 60_000,
      algorithm: 'fixed-window',
      store: new MemoryRateLimiterStore(),
    });
    await app.register(rateLimitPlugin, { limiter });
  },
  '@fastify/rate-limit': async (app) => {
    await app.register(fastifyRateLimit, { max: LIMIT, timeWindow: 60_000 });
  },
  '@infra/api loadSheddingPlugin': async (app) => {
    const pool = { stats: () => ({ waiting: 0 }) };
    await app.register(loadSheddingPlugin, { pool, maxPoolWaiting: 100, maxEventLoopDelayMs: 1000 });
  },
  '@fastify/under-pressure': async (app) => {
    await app.register(underPressure, { maxEventLoopDelay: 1000 });
  },
  '@infra/api idempotencyPlugin': async (app) => {
    await app.register(idempotencyPlugin, { store: new MemoryIdempotencyStore() });
  },
};

function load(url) {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, pipelining: 1 });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const servers = {};
for (const [name, setup] of Object.entries(variants)) {
  const app = Fastify();
  if (name !== 'bare') await setup(app);
  app.get('/users/:id', async (request) => ({ id: request.params.id, name: 'Ada' }));
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  servers[name] = { app, address, rps: [], cpu: [], non2xx: 0 };
}
try {
  const order = Object.values(servers);
  for (const server of order) await load(`${server.address}/users/1`); // warm-up: JIT
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
      const before = process.cpuUsage();
      const result = await load(`${server.address}/users/42`);
      const cpu = process.cpuUsage(before);
      // Server and load generator share this process: CPU per request is steadier than req/s on a
      // shared machine, and the generator's share is the same for every variant.
      server.cpu.push((cpu.user + cpu.system) / result.requests.total);
      server.rps.push(result.requests.average);
      server.non2xx += result.non2xx;
    }
  }
} finally {
  await Promise.all(Object.values(servers).map((server) => server.app.close()));
}

const bare = servers.bare;
console.log(
  `\nEdge plugins: GET /users/:id, ${CONNECTIONS} connections, ${DURATION_S} s x ${ROUNDS} rounds, Node ${process.version}\n`,
);
console.log('| variant | req/s | CPU µs/request | CPU vs bare | non-2xx |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, server] of Object.entries(servers)) {
  const cpu = median(server.cpu);
  console.log(
    `| ${name} | ${Math.round(median(server.rps))} | ${cpu.toFixed(1)} | ${Math.round((cpu / median(bare.cpu)) * 100)} % | ${server.non2xx} |`,
  );
}
const ratio = (ours, peer) => median(servers[ours].cpu) / median(servers[peer].cpu);
console.log(
  `\nCPU per request, ours / peer: rate limit ${ratio('@infra/api rateLimitPlugin', '@fastify/rate-limit').toFixed(2)}x, ` +
    `load shedding ${ratio('@infra/api loadSheddingPlugin', '@fastify/under-pressure').toFixed(2)}x`,
);
if (Object.values(servers).some((server) => server.non2xx > 0)) {
  console.error('some variant answered non-2xx: the figures are not comparable');
  process.exitCode = 1;
}
