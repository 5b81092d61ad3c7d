// Timing and printing for the @infra/cache benchmarks.
import { Bench } from 'tinybench';

/**
 * Calls per sample, unless a task says otherwise. One cache hit costs about as much as the harness's
 * own bookkeeping, so a sample times a batch of sequential calls and records the cost per call.
 */
const BATCH = 256;

/**
 * Each task's time budget is split over ROUNDS rounds that run every task in turn, and a task
 * reports its fastest round: on a shared machine other processes only ever add time, and
 * interleaving keeps a burst of outside load from landing on one task only.
 */
const ROUNDS = positive('BENCH_ROUNDS', 5);

/**
 * `BENCH_CLOCK=cpu` times each sample with `process.cpuUsage()` (this process's user + system
 * time) instead of `performance.now()`: on a machine shared with other work, time spent waiting for
 * a core is not counted. Samples are then 16 times longer, so that the clock's microsecond
 * resolution is small beside them.
 */
const CLOCK = process.env.BENCH_CLOCK ?? 'wall';
if (CLOCK !== 'wall' && CLOCK !== 'cpu') throw new RangeError(`BENCH_CLOCK must be "wall" or "cpu", got "${CLOCK}"`);
const TIME_MS = positive('BENCH_TIME_MS', 1500);

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/**
 * Times each task: `call` does one operation; `sync: true` marks a task whose call returns a plain
 * value, timed without an `await` (an await alone costs a microtask, as much as a cache hit);
 * `batch` is the calls per sample (256 by default, 1 for a call that takes milliseconds);
 * `setup` runs before each of the task's runs (to switch a process-wide mode, such as tracing).
 * @param {{ name: string, call: () => unknown, sync?: boolean, batch?: number, setup?: () => void }[]} tasks
 * @returns {Promise<Map<string, { opsPerSec: number, spread: number }>>}
 */
export async function measure(tasks) {
  for (const task of tasks) {
    task.setup?.();
    await task.call(); // a call that throws must fail here, not pass for a fast one
  }
  const loops = tasks.map((task) => loopOf(task));
  const means = tasks.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    globalThis.gc?.();
    const bench = new Bench({ time: TIME_MS / ROUNDS, iterations: 8, warmup: round === 0, throws: true });
    tasks.forEach((task, i) => bench.add(task.name, loops[i], task.setup && { beforeAll: task.setup }));
    await bench.run();
    bench.tasks.forEach((benchTask, i) => means[i].push(benchTask.result.latency.mean));
  }
  const results = new Map();
  tasks.forEach((task, i) => {
    const best = Math.min(...means[i]);
    results.set(task.name, { opsPerSec: 1000 / best, spread: ((Math.max(...means[i]) - best) / best) * 100 });
  });
  return results;
}

/**
 * The timed loop, compiled separately for every task: closures of one function literal share V8's
 * type feedback, and a shared call site turning megamorphic would penalise whichever task runs later.
 */
function loopOf(task) {
  const body = task.sync ? 'call();' : 'await call();';
  const [start, elapsed] =
    CLOCK === 'cpu'
      ? ['process.cpuUsage()', '((used) => (used.user + used.system) / 1000)(process.cpuUsage(start))']
      : ['performance.now()', 'performance.now() - start'];
  const make = new Function(
    'call',
    'batch',
    `return async function timed() {
      const start = ${start};
      for (let i = 0; i < batch; i++) ${body}
      const elapsed = ${elapsed};
      return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
    };`,
  );
  return make(task.call, (task.batch ?? BATCH) * (CLOCK === 'cpu' ? 16 : 1));
}

/** Prints the results as a table, each row with its ratio to the row named in `against`. */
export function print(title, results, against = {}) {
  console.log(`\n${title}`);
  const rows = [...results].map(([name, { opsPerSec, spread }]) => {
    const base = against[name] === undefined ? undefined : results.get(against[name]);
    return {
      case: name,
      'ops/s': Math.round(opsPerSec).toLocaleString('en-US'),
      'worst round +%': spread.toFixed(0),
      ratio: base ? `${(opsPerSec / base.opsPerSec).toFixed(2)}x ${against[name]}` : '',
    };
  });
  console.table(rows);
}

/** `a / b` of two measured tasks. */
export function ratioOf(results, a, b) {
  return results.get(a).opsPerSec / results.get(b).opsPerSec;
}

/** Verdicts collected over the run, printed together at the end. */
export const verdicts = [];

export function verdict(label, value, target) {
  verdicts.push(`${value >= target ? 'MET    ' : 'NOT MET'}  ${label}: ${value.toFixed(2)}x (target >= ${target}x)`);
}
