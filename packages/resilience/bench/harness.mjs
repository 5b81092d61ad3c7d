// Measurement and printing shared by the @infra/resilience benchmarks.
import { Bench } from 'tinybench';

/**
 * Sequential calls per tinybench sample. A single call of a few hundred ns is close to the
 * resolution of performance.now() and to the cost of the harness's own await, so each sample times
 * a batch and records the per-call mean.
 */
export const BATCH = 256;

/**
 * `BENCH_CLOCK=cpu` times each batch with `process.cpuUsage()` (user + system time of this
 * process) instead of `performance.now()`: on a machine shared with other work, time spent
 * waiting for a core is not counted, so ratios between tasks of one run stay comparable. The
 * figures then read as CPU ns per call; batches are longer so that the clock's microsecond
 * resolution is small beside them.
 */
export const CLOCK = clockFromEnv();
const CALLS_PER_SAMPLE = CLOCK === 'cpu' ? BATCH * 8 : BATCH;

function clockFromEnv() {
  const raw = process.env.BENCH_CLOCK ?? 'wall';
  if (raw !== 'wall' && raw !== 'cpu') throw new RangeError(`BENCH_CLOCK must be "wall" or "cpu", got "${raw}"`);
  return raw;
}

/**
 * Per-task budgets, split over ROUNDS runs of every task in turn. The machine may be shared: other
 * processes only ever add time, so each task reports its fastest round, and interleaving the tasks
 * keeps a burst of outside load from landing on one of them only. The whole run, every section
 * included, stays under two minutes.
 */
const ROUNDS = 5;
const TIME_MS = envMs('BENCH_TIME_MS', 1500);
const WARMUP_MS = envMs('BENCH_WARMUP_MS', 300);

/** A positive duration from the environment, for shorter or longer runs. */
function envMs(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number of ms, got "${raw}"`);
  return value;
}

/**
 * Measures per-call cost of `call` (an async function doing one operation), `BATCH` sequential
 * awaited calls per sample. Returns one row per task: the mean cost per call of its fastest round,
 * and how much slower its slowest round was, in percent.
 * @param {string} title
 * `setup`, when given, runs before each of the task's runs (to switch a process-wide mode, such as tracing).
 * @param {{ name: string, note?: string, call: () => Promise<unknown>, setup?: () => void }[]} tasks
 */
export async function measure(title, tasks) {
  for (const task of tasks) {
    task.setup?.();
    // A wrong setup (a call that rejects) must not pass for a fast one: check once before timing.
    await task.call();
  }
  const loops = tasks.map((task) => batchOf(task.call));
  const means = tasks.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({
      name: title,
      time: TIME_MS / ROUNDS,
      // The time budget decides; a low floor keeps tasks that cost microseconds per call short.
      iterations: 8,
      warmup: round === 0,
      warmupTime: WARMUP_MS,
      throws: true,
    });
    tasks.forEach((task, i) => bench.add(task.name, loops[i], task.setup && { beforeAll: task.setup }));
    await bench.run();
    bench.tasks.forEach((benchTask, i) => means[i].push(meanOf(tasks[i], benchTask)));
  }
  return tasks.map((task, i) => {
    const meanMs = Math.min(...means[i]);
    return {
      name: task.name,
      note: task.note ?? '',
      opsPerSec: 1000 / meanMs,
      meanNs: meanMs * 1e6,
      spread: ((Math.max(...means[i]) - meanMs) / meanMs) * 100,
    };
  });
}

/**
 * The timed loop, compiled afresh for every task: closures of one shared function literal share
 * V8's type feedback, so the `call()` site would turn megamorphic and penalise whichever task runs
 * later. A function of its own keeps each task's call site monomorphic.
 */
function batchOf(call) {
  const body =
    CLOCK === 'cpu'
      ? `const start = process.cpuUsage();
      for (let i = 0; i < batch; i++) await call();
      const used = process.cpuUsage(start);
      const elapsed = (used.user + used.system) / 1000;`
      : `const start = performance.now();
      for (let i = 0; i < batch; i++) await call();
      const elapsed = performance.now() - start;`;
  const make = new Function(
    'call',
    'batch',
    `return async function timedBatch() {
      ${body}
      return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
    };`,
  );
  return make(call, CALLS_PER_SAMPLE);
}

/** Mean cost of one call (ms) in one round. */
function meanOf(task, benchTask) {
  const result = benchTask.result;
  if (result.state !== 'completed') {
    throw new Error(`Benchmark "${task.name}" did not complete: ${String(result.error ?? result.state)}`);
  }
  return result.latency.mean;
}

/** @typedef {{ name: string, note: string, opsPerSec: number, meanNs: number, spread: number }} BenchRow */

/** Thousands separators, no decimals. */
export function int(value) {
  return Math.round(value).toLocaleString('en-US');
}

/** `a / b` as "1.23x". */
export function ratio(a, b) {
  return `${(a / b).toFixed(2)}x`;
}

/**
 * Prints rows as an aligned table. `ratios` maps a column title to its denominator: a row (every
 * row's ops/s divided by that row's) or a function picking the denominator row of each row, or
 * nothing to leave the cell empty.
 * @param {string} title
 * @param {BenchRow[]} rows
 * @param {Record<string, BenchRow | ((row: BenchRow) => BenchRow | undefined)>} [ratios]
 */
export function printTable(title, rows, ratios = {}) {
  const header = ['case', 'ops/s', 'mean ns/op', 'worst round +%', ...Object.keys(ratios), 'notes'];
  const body = rows.map((row) => [
    row.name,
    int(row.opsPerSec),
    int(row.meanNs),
    row.spread.toFixed(0),
    ...Object.values(ratios).map((base) => {
      const denominator = typeof base === 'function' ? base(row) : base;
      return denominator ? ratio(row.opsPerSec, denominator.opsPerSec) : '';
    }),
    row.note,
  ]);
  printGrid(title, header, body, [false, true, true, true, ...Object.keys(ratios).map(() => true), false]);
}

/**
 * Prints a titled grid of strings; `right[i]` right-aligns column i.
 * @param {string} title
 * @param {string[]} header
 * @param {string[][]} body
 * @param {boolean[]} right
 */
export function printGrid(title, header, body, right) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => (right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const cells of body) console.log(line(cells));
}

/** Verdicts collected over the run, printed together at the end. */
export const verdicts = [];

/**
 * Records and prints a one-line verdict.
 * @param {string} target what was aimed for
 * @param {boolean} met
 * @param {string} figures the numbers behind the verdict
 */
export function verdict(target, met, figures) {
  const text = `${met ? 'MET    ' : 'NOT MET'}  ${target}: ${figures}`;
  verdicts.push(text);
  console.log(`verdict: ${text}`);
}
