// /health/ready latency: with cached results, and with one dependency that never answers.
import Fastify from 'fastify';
import { HealthCheckService } from '@infra/health';
import { healthCheckController } from '@infra/health/fastify';
import { CONNECTIONS, DURATION_S, load, ms, percentile, table, verdicts } from './harness.mjs';

const HANG_TIMEOUT_MS = 200;

async function server(configure) {
  const service = new HealthCheckService(configure.options);
  configure.register(service);
  const app = Fastify();
  await app.register(healthCheckController, { service });
  return { app, address: await app.listen({ port: 0, host: '127.0.0.1' }) };
}

/** Sequential requests timed one by one (autocannon's histogram has 1 ms resolution). */
async function sequential(url, count) {
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
  }
  return latencies;
}

export async function benchReadyLatency() {
  console.log(
    `\n/health/ready latency (cached: a 10 ms dependency behind a 1 s cache; hanging: a check that never answers, timeout ${HANG_TIMEOUT_MS} ms)`,
  );
  const cached = await server({
    options: { cacheTtlMs: 1000 },
    register: (service) =>
      service.register('database', () => new Promise((resolve) => setTimeout(resolve, 10, { status: 'pass' })), true),
  });
  const hanging = await server({
    options: { cacheTtlMs: 0 },
    register: (service) => {
      service.register('database', () => ({ status: 'pass' }), true);
      service.register('payments', () => new Promise(() => {}), { critical: true, timeoutMs: HANG_TIMEOUT_MS });
    },
  });
  try {
    const cachedSeq = await sequential(`${cached.address}/health/ready`, 500);
    const cachedLoad = await load(`${cached.address}/health/ready`);
    const hangingSeq = await sequential(`${hanging.address}/health/ready`, 20);
    const hangingLoad = await load(`${hanging.address}/health/ready`, {
      allowNon2xx: true,
      duration: Math.min(DURATION_S, 2),
    });
    if (hangingLoad.non2xx !== hangingLoad.requests.total)
      throw new Error('hanging dependency: some ready probes did not answer 503');
    table([
      {
        case: 'cached, sequential',
        requests: cachedSeq.length,
        p50: ms(percentile(cachedSeq, 50)),
        p99: ms(percentile(cachedSeq, 99)),
        max: ms(Math.max(...cachedSeq)),
      },
      {
        case: `cached, ${CONNECTIONS} connections`,
        requests: cachedLoad.requests.total,
        p50: ms(cachedLoad.latency.p50),
        p99: ms(cachedLoad.latency.p99),
        max: ms(cachedLoad.latency.max),
      },
      {
        case: 'hanging, sequential',
        requests: hangingSeq.length,
        p50: ms(percentile(hangingSeq, 50)),
        p99: ms(percentile(hangingSeq, 99)),
        max: ms(Math.max(...hangingSeq)),
      },
      {
        case: `hanging, ${CONNECTIONS} connections`,
        requests: hangingLoad.requests.total,
        p50: ms(hangingLoad.latency.p50),
        p99: ms(hangingLoad.latency.p99),
        max: ms(hangingLoad.latency.max),
      },
    ]);
    const cachedP99 = percentile(cachedSeq, 99);
    const hangingMax = Math.max(...hangingSeq);
    verdicts.push(`/ready cached p99 ${ms(cachedP99)} (target < 5 ms: ${cachedP99 < 5 ? 'met' : 'NOT met'})`);
    verdicts.push(
      `/ready with a hanging dependency max ${ms(hangingMax)} (target <= ${HANG_TIMEOUT_MS + 20} ms: ${hangingMax <= HANG_TIMEOUT_MS + 20 ? 'met' : 'NOT met'})`,
    );
  } finally {
    await Promise.all([cached.app.close(), hanging.app.close()]);
  }
}
