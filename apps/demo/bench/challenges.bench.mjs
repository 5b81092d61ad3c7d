// Throughput of a cached `GET /v1/challenges/:id` through the whole service, against a bare
// Fastify route answering the same JSON and against the same service with its cache off.
// Run after `pnpm --filter @infra/demo... build`:  pnpm --filter @infra/demo bench
// BENCH_DURATION (s, default 5), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 6),
// BENCH_NOCACHE=0 to leave out the cache-off target (it is slow to start and not in the headline ratio).
// The load generator shares the machine with the targets, so a round's throughput drifts with
// whatever else runs: ratios are paired within a round (the targets run back to back) and the
// median over rounds is reported. On Linux the server's CPU time per request is shown too, read
// from /proc: it is what the stack costs, whatever the load generator manages to send.
// DATABASE_URL / REDIS_URL given in the environment are used by the service targets.
// BENCH_BASELINE=<another checkout's apps/demo, built> adds that checkout's cached read as a target
// (the same request, its own bench/server.mjs), and prints this tree's throughput and CPU against it.
// BENCH_TRACING=1 adds the cached read with the OpenTelemetry SDK on, its batch span processor
// exporting OTLP/HTTP protobuf to a receiver this process serves (it counts, and drops, what arrives).
// BENCH_PROCESSES=N (default 1) runs the rounds N times, each time with a fresh process per target:
// two processes of one build can differ by 15 %, so comparing builds takes several sets.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const withNocache = process.env.BENCH_NOCACHE !== '0';
const baseline = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;
const withTracing = process.env.BENCH_TRACING === '1';
const processSets = Number(process.env.BENCH_PROCESSES ?? 1);
if (!Number.isInteger(processSets) || processSets < 1)
  throw new Error(`BENCH_PROCESSES must be a whole number of 1 or more (got "${process.env.BENCH_PROCESSES}")`);
const path = '/v1/challenges/00000000-0000-4000-8000-000000000004';
const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));

// Whatever happens (a failed check throws before the rounds' cleanup), no target outlives the bench.
const started = [];
process.on('exit', () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

async function startTarget(mode, stdin, { script = serverScript, env = {} } = {}) {
  const child = spawn(process.execPath, [script, mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  started.push(child);
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

/** CPU seconds (user + system) a process has used, from /proc; undefined where there is none. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function load(url, seconds) {
  return autocannon({ url: `${url}${path}`, connections, duration: seconds, pipelining: 1 });
}

/** An OTLP/HTTP endpoint that answers every export at once: the exporter's cost, not a collector's. */
async function startReceiver() {
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on('data', (chunk) => (counts.bytes += chunk.length));
    request.on('end', () => {
      counts.requests += 1;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}`, counts, close: () => server.close() };
}

const receiver = withTracing ? await startReceiver() : undefined;
const names = [
  'bare Fastify route (same JSON)',
  'whole stack, cache on',
  ...(baseline === undefined ? [] : [`baseline (${baseline}), cache on`]),
  ...(withTracing ? ['whole stack, cache on, tracing (OTLP batch)'] : []),
  ...(withNocache ? ['whole stack, cache off'] : []),
];
// One entry per round of every process set, in the same order for every target: entry i of two
// targets ran in the same round.
const results = new Map(names.map((name) => [name, []]));

/** Starts one process per target, checks their answers, runs the rounds, and stops them. */
async function runProcessSet() {
  const stack = await startTarget('stack');
  const nocache = withNocache ? await startTarget('nocache') : undefined;
  const traced =
    receiver === undefined
      ? undefined
      : await startTarget('stack', undefined, {
          env: {
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_SERVICE_NAME: 'challenges-bench',
          },
        });
  const base =
    baseline === undefined
      ? undefined
      : await startTarget('stack', undefined, { script: resolve(baseline, 'bench', 'server.mjs') });
  const body = await fetch(`${stack.url}${path}`).then((r) => r.text());
  if (!body.includes('"success":true')) throw new Error(`unexpected answer from the service: ${body.slice(0, 200)}`);
  const bare = await startTarget('bare', body);
  const bareBody = await fetch(`${bare.url}${path}`).then((r) => r.text());
  if (bareBody !== body) throw new Error('the bare route does not answer the same JSON as the service');

  for (const [name, target] of [
    ['baseline', base],
    ['traced', traced],
  ]) {
    if (target === undefined) continue;
    const answer = await fetch(`${target.url}${path}`).then((r) => r.text());
    // Each service seeded its own database at start: only the timestamps may differ.
    const undated = (text) => text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'T');
    if (undated(answer) !== undated(body))
      throw new Error(`the ${name} target does not answer the same JSON: ${answer.slice(0, 200)}`);
  }

  const targets = [bare, stack, base, traced, nocache].filter((target) => target !== undefined);
  try {
    for (const target of targets) await load(target.url, 2); // warm-up: JIT, pools, caches
    // Rounds interleave the targets so that drift in the machine's load hits all of them alike.
    for (let round = 0; round < rounds; round++) {
      for (const [index, target] of targets.entries()) {
        const name = names[index];
        const cpuBefore = cpuSeconds(target.child.pid);
        const result = await load(target.url, duration);
        const cpuAfter = cpuSeconds(target.child.pid);
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
        const cpuPerRequest =
          cpuBefore === undefined || cpuAfter === undefined
            ? undefined
            : ((cpuAfter - cpuBefore) * 1e6) / result.requests.total;
        results.get(name).push({ ...result, cpuPerRequest });
      }
    }
  } finally {
    await Promise.all(targets.map((target) => stopTarget(target)));
  }
}

try {
  // Two processes of the same build can differ by 15 % (JIT and memory layout): fresh sets of
  // processes make that part of the spread, instead of one process's luck deciding the figure.
  for (let set = 0; set < processSets; set++) await runProcessSet();
} finally {
  receiver?.close();
}
const targets = names.map((name) => [name]);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const bareRuns = results.get(targets[0][0]);
const summary = targets.map(([name]) => {
  const runs = results.get(name);
  const cpu = runs.map((r) => r.cpuPerRequest).filter((v) => v !== undefined);
  return {
    name,
    rps: median(runs.map((r) => r.requests.average)),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    // Paired with the bare route's run of the same round.
    ratio: median(runs.map((r, round) => r.requests.average / bareRuns[round].requests.average)),
    cpu: cpu.length === runs.length ? median(cpu) : undefined,
  };
});
console.log(
  `\nGET ${path}  (${connections} connections, ${processSets} process set(s) x ${rounds} rounds x ${duration} s per target, medians of rounds, Node ${process.version})\n`,
);
console.log('| target | req/s | p50 ms | p99 ms | vs bare (paired) | server CPU µs/request |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of summary) {
  console.log(
    `| ${row.name} | ${Math.round(row.rps)} | ${row.p50} | ${row.p99} | ${(row.ratio * 100).toFixed(0)} % | ${row.cpu === undefined ? 'n/a' : row.cpu.toFixed(1)} |`,
  );
}
// Every round's paired figures, so that the spread is visible next to the medians.
for (const [name] of targets.slice(1)) {
  const runs = results.get(name);
  const ratios = runs.map(
    (r, round) => `${((r.requests.average / bareRuns[round].requests.average) * 100).toFixed(0)} %`,
  );
  const cpu = runs.map((r, round) =>
    r.cpuPerRequest === undefined || bareRuns[round].cpuPerRequest === undefined
      ? 'n/a'
      : `${((bareRuns[round].cpuPerRequest / r.cpuPerRequest) * 100).toFixed(0)} %`,
  );
  console.log(`${name}, by round: throughput vs bare ${ratios.join(', ')}; bare CPU / CPU ${cpu.join(', ')}`);
}
const row = (name) => summary.find((entry) => entry.name.startsWith(name));
const [bareRow, cached] = summary;
const uncached = row('whole stack, cache off');
console.log(
  `\n${uncached === undefined ? '' : `cache on vs off: ${(cached.rps / uncached.rps).toFixed(1)}x; `}whole stack at ${(cached.ratio * 100).toFixed(0)} % of bare (target >= 70 %)`,
);
if (bareRow.cpu !== undefined && cached.cpu !== undefined) {
  console.log(
    `server CPU per request: bare ${bareRow.cpu.toFixed(1)} µs, whole stack ${cached.cpu.toFixed(1)} µs (bare / stack = ${((bareRow.cpu / cached.cpu) * 100).toFixed(0)} %)`,
  );
}

/** Medians over rounds of this tree's figure over `other`'s, paired within each round. */
function versus(name, otherName) {
  const runs = results.get(name);
  const others = results.get(otherName);
  const throughput = median(runs.map((r, round) => r.requests.average / others[round].requests.average));
  const cpu = runs.every((r, round) => r.cpuPerRequest !== undefined && others[round].cpuPerRequest !== undefined)
    ? median(runs.map((r, round) => others[round].cpuPerRequest / r.cpuPerRequest))
    : undefined;
  const rounds = runs.map(
    (r, round) => `${((r.requests.average / others[round].requests.average) * 100).toFixed(1)} %`,
  );
  return `throughput ${(throughput * 100).toFixed(1)} %${cpu === undefined ? '' : `, CPU per request ${(100 / cpu).toFixed(1)} %`} (by round: ${rounds.join(', ')})`;
}
const stackName = targets[1][0];
if (baseline !== undefined)
  console.log(
    `this tree vs baseline, cache on: ${versus(stackName, targets.find(([name]) => name.startsWith('baseline'))[0])}`,
  );
if (withTracing) {
  console.log(`tracing on vs off, cache on: ${versus('whole stack, cache on, tracing (OTLP batch)', stackName)}`);
  console.log(
    `OTLP receiver: ${receiver.counts.requests} export requests, ${(receiver.counts.bytes / 1e6).toFixed(1)} MB`,
  );
}
