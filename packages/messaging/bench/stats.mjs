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
