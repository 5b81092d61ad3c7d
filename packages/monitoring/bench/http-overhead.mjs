// Request overhead of the metrics plugin on a Fastify route, against the bare route, against the
// same plugin built on OpenTelemetry metrics with the Prometheus exporter (the other public-API
// way to export them) and against fastify-metrics (the common peer), in the same run with
// interleaved rounds.
import Fastify from 'fastify';
import fastifyMetrics from 'fastify-metrics';
import { MetricsCollector } from '../dist/index.js';
import { metricsPlugin } from '../dist/fastify/index.js';
import { otelMetricsPlugin } from './otel-metrics-plugin.mjs';
import { CONNECTIONS, DURATION_S, ROUNDS, int, load, median, ms, table, verdicts } from './harness.mjs';

const variants = {
  bare: async () => Fastify(),
  '@infra/monitoring': async () => {
    const app = Fastify();
    await app.register(metricsPlugin, { collector: new MetricsCollector() });
    return app;
  },
  'OpenTelemetry metrics': async () => {
    const app = Fastify();
    await app.register(otelMetricsPlugin);
    return app;
  },
  'fastify-metrics': async () => {
    const app = Fastify();
    await app.register(fastifyMetrics, {
      endpoint: '/metrics',
      clearRegisterOnInit: true,
      defaultMetrics: { enabled: false },
      routeMetrics: { enabled: { histogram: true, summary: false }, groupStatusCodes: true },
    });
    return app;
  },
};

export async function benchHttpOverhead() {
  console.log(
    `\nHTTP overhead: GET /users/:id, ${CONNECTIONS} connections, ${DURATION_S} s x ${ROUNDS} rounds per variant`,
  );
  const servers = {};
  for (const [name, create] of Object.entries(variants)) {
    const app = await create();
    app.get('/users/:id', async (request) => ({ id: request.params.id, name: 'Ada' }));
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    servers[name] = { app, address, rps: [], p99: [], cpu: [] };
  }
  try {
    const order = Object.values(servers);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so that no variant always runs first (or last) in a burst of load.
      for (const server of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
        const cpuBefore = process.cpuUsage();
        const result = await load(`${server.address}/users/42`);
        const cpu = process.cpuUsage(cpuBefore);
        // Server and load generator share this process: CPU per request is steadier than req/s on
        // a shared machine, and the generator's share is the same for every variant.
        server.cpu.push((cpu.user + cpu.system) / result.requests.total);
        server.rps.push(result.requests.average);
        server.p99.push(result.latency.p99);
      }
    }
    // The instrumented servers must have recorded what they served.
    const metrics = await (await fetch(`${servers['@infra/monitoring'].address}/metrics`)).text();
    const counted = /http_request_duration_seconds_count\{method="GET",route="\/users\/:id",status_class="2xx"\} \d+/;
    if (!counted.test(metrics)) {
      throw new Error('@infra/monitoring recorded no request');
    }
    const otel = await (await fetch(`${servers['OpenTelemetry metrics'].address}/metrics`)).text();
    if (!counted.test(otel)) {
      throw new Error(`OpenTelemetry metrics recorded no request:\n${otel}`);
    }
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.app.close()));
  }
  const bare = median(servers.bare.rps);
  const bareCpu = median(servers.bare.cpu);
  const rows = Object.entries(servers).map(([name, server]) => {
    const rps = median(server.rps);
    const cpu = median(server.cpu);
    return {
      variant: name,
      'req/s (median)': int(rps),
      'throughput vs bare': signed((rps / bare - 1) * 100),
      'CPU us/request': cpu.toFixed(1),
      'CPU vs bare': signed((cpu / bareCpu - 1) * 100),
      'p99 latency': ms(median(server.p99)),
    };
  });
  table(rows);
  const overhead = (name) => median(servers[name].cpu) / bareCpu - 1;
  const lost = (name) => 1 - median(servers[name].rps) / bare;
  const worst = Math.max(overhead('@infra/monitoring'), lost('@infra/monitoring'));
  verdicts.push(
    `over HTTP (autocannon): CPU per request ${signed(overhead('@infra/monitoring') * 100)}, throughput ${signed(-lost('@infra/monitoring') * 100)} ` +
      `with @infra/monitoring (target <= 10 %: ${worst <= 0.1 ? 'met' : 'NOT met'}); ` +
      `OpenTelemetry metrics ${signed(overhead('OpenTelemetry metrics') * 100)} CPU, ` +
      `${signed(-lost('OpenTelemetry metrics') * 100)} throughput; ` +
      `fastify-metrics ${signed(overhead('fastify-metrics') * 100)} CPU, ${signed(-lost('fastify-metrics') * 100)} throughput, against the bare route`,
  );
  await benchInjectOverhead();
}

/**
 * The same comparison without sockets or a load generator: `fastify.inject` in alternating
 * batches, so that the slow drift of a shared machine hits every variant alike. Differences of a
 * few microseconds per request stand out here, where over HTTP they drown in the noise.
 */
async function benchInjectOverhead() {
  const BATCH = 2000;
  const PAIRS = Number(process.env.BENCH_INJECT_ROUNDS ?? 12);
  console.log(`\nIn-process (fastify.inject): ${PAIRS} alternating batches of ${int(BATCH)} requests per variant`);
  const apps = {};
  for (const [name, create] of Object.entries(variants)) {
    const app = await create();
    app.get('/users/:id', async (request) => ({ id: request.params.id, name: 'Ada' }));
    await app.ready();
    apps[name] = { app, perRequest: [] };
  }
  try {
    for (let round = 0; round < PAIRS; round++) {
      for (const entry of Object.values(apps)) {
        const started = performance.now();
        for (let i = 0; i < BATCH; i++) {
          const response = await entry.app.inject({ method: 'GET', url: `/users/${i}` });
          if (response.statusCode !== 200) throw new Error(`inject answered ${response.statusCode}`);
        }
        entry.perRequest.push(((performance.now() - started) * 1000) / BATCH);
      }
    }
  } finally {
    await Promise.all(Object.values(apps).map((entry) => entry.app.close()));
  }
  const bare = median(apps.bare.perRequest);
  table(
    Object.entries(apps).map(([name, entry]) => {
      const us = median(entry.perRequest);
      return {
        variant: name,
        'us/request (median)': us.toFixed(2),
        'added us': (us - bare).toFixed(2),
        'vs bare': signed((us / bare - 1) * 100),
      };
    }),
  );
  const ours = median(apps['@infra/monitoring'].perRequest) / bare - 1;
  const otel = median(apps['OpenTelemetry metrics'].perRequest) / bare - 1;
  const peer = median(apps['fastify-metrics'].perRequest) / bare - 1;
  verdicts.push(
    `metrics plugin overhead per request (in-process) ${signed(ours * 100)} (target <= 10 %: ${ours <= 0.1 ? 'met' : 'NOT met'}); ` +
      `OpenTelemetry metrics ${signed(otel * 100)}; fastify-metrics ${signed(peer * 100)}`,
  );
}

function signed(percent) {
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)} %`;
}
