// Small helpers shared by the @infra/messaging benchmarks.

/** Rounds per measurement; the best one is reported (other processes on the machine only add time). */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** p-th percentile (0..100) of the first `count` values of a Float64Array of latencies in ms. */
export function percentile(values, count, p) {
  const sorted = Float64Array.from(values.subarray(0, count)).sort();
  return sorted[Math.min(count - 1, Math.floor((p / 100) * count))] ?? 0;
}

/**
 * Runs `round` `warmup` times unmeasured (the JIT and the heap's sizing settle first: a service
 * runs for hours), then `rounds` times (default ROUNDS); returns the result with the highest `rate`, with the median
 * rate of the measured rounds as `median`.
 */
export async function best(round, { warmup = 0, rounds = ROUNDS } = {}) {
  for (let i = 0; i < warmup; i++) await round(-1 - i);
  let top;
  const rates = [];
  for (let i = 0; i < rounds; i++) {
    const result = await round(i);
    rates.push(result.rate);
    if (!top || result.rate > top.rate) top = result;
  }
  rates.sort((a, b) => a - b);
  return { ...top, median: rates[rates.length >> 1] };
}

export function rate(count, ms) {
  return count / (ms / 1000);
}

export function fmt(value) {
  return Math.round(value).toLocaleString('en-US');
}

/** Resolves when `check()` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until(check, timeoutMs = 120_000, everyMs = 2) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`benchmark condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The payload of the transport benchmarks: a small event, as a service publishes. */
export const eventPayload = (i) => ({
  userId: `u${i % 100}`,
  challengeId: i,
  score: i % 10,
  at: '2026-01-01T00:00:00.000Z',
});

/** Runs `body` over `count` messages; its rate (msg/s) and this process's CPU time per message (µs). */
export async function measureMessages(count, body) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await body();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { rate: count / (wall / 1000), cpu: (used.user + used.system) / count };
}

/**
 * Prints every run of each side (`runs`: name → [{ rate, cpu }]) and, for each [ours, peer] pair, the
 * ratio of the best and of the median rates with the least CPU per message of each side.
 */
export function printTransportReport(runs, pairs) {
  const best = (name) => Math.max(...runs[name].map((r) => r.rate));
  const median = (name) => {
    const rates = runs[name].map((r) => r.rate).sort((a, b) => a - b);
    return rates[rates.length >> 1];
  };
  const leastCpu = (name) => Math.min(...runs[name].map((r) => r.cpu));
  const width = Math.max(...Object.keys(runs).map((name) => name.length));
  console.log('\nEvery run, msg/s (CPU µs/msg of this process):');
  for (const [name, list] of Object.entries(runs))
    console.log(`  ${name.padEnd(width)} ${list.map((r) => `${Math.round(r.rate)} (${r.cpu.toFixed(1)})`).join('  ')}`);
  console.table(
    pairs.map(([ours, peer]) => ({
      scenario: `${ours} / ${peer.replace(/ (publish|consume)$/, '')}`,
      'best msg/s': Math.round(best(ours)),
      'vs best msg/s': Math.round(best(peer)),
      'ratio (best)': (best(ours) / best(peer)).toFixed(2),
      'ratio (median)': (median(ours) / median(peer)).toFixed(2),
      'CPU µs/msg': `${leastCpu(ours).toFixed(1)} / ${leastCpu(peer).toFixed(1)}`,
    })),
  );
}
