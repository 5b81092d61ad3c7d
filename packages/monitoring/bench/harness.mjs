// Load generation and printing shared by the @infra/monitoring benchmarks.
import autocannon from 'autocannon';

/** Seconds per autocannon run; rounds interleave the variants so drift hits them all alike. */
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 2);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

/** One autocannon run; throws when any request failed, so that a broken setup never looks fast. */
export async function load(url, options = {}) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, ...options });
  if (result.errors > 0 || result.timeouts > 0 || (options.allowNon2xx !== true && result.non2xx > 0)) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  }
  return result;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** p-th percentile (0-100) of raw samples. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function int(value) {
  return Math.round(value).toLocaleString('en-US');
}

export function ms(value) {
  return `${value.toFixed(2)} ms`;
}

export function table(rows) {
  const widths = Object.keys(rows[0]).map((key) => Math.max(key.length, ...rows.map((row) => String(row[key]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  console.log(line(Object.keys(rows[0])));
  for (const row of rows) console.log(line(Object.values(row)));
}

export const verdicts = [];
