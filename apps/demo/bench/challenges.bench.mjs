// Throughput of a cached `GET /v1/challenges/:id` through the whole service, against a bare
// Fastify route answering the same JSON and against the same service with its cache off.
// Run after `pnpm --filter @infra/demo... build`:  pnpm --filter @infra/demo bench
// BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 2).
// DATABASE_URL / REDIS_URL given in the environment are used by the service targets.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const path = '/v1/challenges/00000000-0000-4000-8000-000000000004';
const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));

async function startTarget(mode, stdin) {
  const child = spawn(process.execPath, [serverScript, mode], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
  child.stdin.end(stdin ?? '');
  let output = '';
  for await (const chunk of child.stdout) {
    output += chunk.toString();
    const match = /READY (\d+)/.exec(output);
    if (match) return { url: `http://127.0.0.1:${match[1]}`, child };
  }
  throw new Error(`benchmark target "${mode}" exited before listening`);
}

async function stopTarget(target) {
  target.child.kill('SIGTERM');
  await once(target.child, 'exit');
}

function load(url, seconds) {
  return autocannon({ url: `${url}${path}`, connections, duration: seconds, pipelining: 1 });
}

const stack = await startTarget('stack');
const nocache = await startTarget('nocache');
const body = await fetch(`${stack.url}${path}`).then((r) => r.text());
if (!body.includes('"success":true')) throw new Error(`unexpected answer from the service: ${body.slice(0, 200)}`);
const bare = await startTarget('bare', body);
const bareBody = await fetch(`${bare.url}${path}`).then((r) => r.text());
if (bareBody !== body) throw new Error('the bare route does not answer the same JSON as the service');

const targets = [
  ['bare Fastify route (same JSON)', bare],
  ['whole stack, cache on', stack],
  ['whole stack, cache off', nocache],
];
const results = new Map(targets.map(([name]) => [name, []]));
try {
  for (const [, target] of targets) await load(target.url, 2); // warm-up: JIT, pools, caches
  // Rounds interleave the targets so that drift in the machine's load hits all of them alike.
  for (let round = 0; round < rounds; round++) {
    for (const [name, target] of targets) {
      const result = await load(target.url, duration);
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      results.get(name).push(result);
    }
  }
} finally {
  await Promise.all(targets.map(([, target]) => stopTarget(target)));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const summary = targets.map(([name]) => {
  const runs = results.get(name);
  return {
    name,
    rps: median(runs.map((r) => r.requests.average)),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
  };
});
const bareRps = summary[0].rps;
console.log(`\nGET ${path}  (${connections} connections, ${rounds} x ${duration} s per target, median of rounds, Node ${process.version})\n`);
console.log('| target | req/s | p50 ms | p99 ms | vs bare |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const row of summary) {
  console.log(`| ${row.name} | ${Math.round(row.rps)} | ${row.p50} | ${row.p99} | ${((row.rps / bareRps) * 100).toFixed(0)} % |`);
}
const cached = summary[1].rps;
console.log(`\ncache on vs off: ${(cached / summary[2].rps).toFixed(1)}x; whole stack at ${((cached / bareRps) * 100).toFixed(0)} % of bare (target >= 70 %)`);
