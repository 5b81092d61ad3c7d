// Section 4: a breaker's heap footprint over 1M calls.
import { int, printGrid, verdict } from './harness.mjs';
import { CircuitBreaker } from '../dist/index.js';

const CHECKPOINTS = [0, 100_000, 500_000, 1_000_000];
/** One call in FAIL_EVERY fails, so both outcome paths run without reaching the 50% threshold. */
const FAIL_EVERY = 20;
/** Growth from the 100k checkpoint to 1M that still counts as flat (GC and JIT noise). */
const FLAT_BYTES = 64 * 1024;

/**
 * The breakers read an injected clock that advances this much per call, so that 1M calls span
 * 100 s and the 10 s time window slides ten times over instead of staying in its first buckets.
 */
const CLOCK_STEP_MS = 0.1;

const failure = new Error('bench failure');
const succeed = async () => 1;
const fail = async () => {
  throw failure;
};

function kib(bytes) {
  return `${bytes >= 0 ? '+' : '-'}${(Math.abs(bytes) / 1024).toFixed(1)}`;
}

async function heapUsed() {
  // Let pending callbacks run first, then collect twice: one pass can leave garbage queued for finalization.
  await new Promise((resolve) => setImmediate(resolve));
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap used at each checkpoint, relative to the heap before the breaker was created: the first
 * figure is the empty breaker, the others what its calls added.
 */
async function footprint(create, checkpoints = CHECKPOINTS) {
  const clock = { ms: 0 };
  const before = await heapUsed();
  const breaker = create(clock);
  const heap = [];
  let calls = 0;
  for (const checkpoint of checkpoints) {
    for (; calls < checkpoint; calls++) {
      clock.ms += CLOCK_STEP_MS;
      await breaker.execute(calls % FAIL_EVERY === 0 ? fail : succeed).catch(() => undefined);
    }
    heap.push((await heapUsed()) - before);
  }
  if (breaker.state !== 'closed') throw new Error(`breaker "${breaker.name}" opened during the memory run`);
  return heap;
}

export async function benchMemory() {
  if (typeof globalThis.gc !== 'function') {
    console.log('\n4. Memory: skipped, run node with --expose-gc (`pnpm bench` does)');
    return;
  }
  const kinds = [
    [
      '@infra time window',
      (clock) =>
        new CircuitBreaker('mem-time', { now: () => clock.ms, slidingWindow: { kind: 'time', durationMs: 10_000 } }),
    ],
    [
      '@infra count window',
      (clock) => new CircuitBreaker('mem-count', { now: () => clock.ms, slidingWindow: { kind: 'count', size: 100 } }),
    ],
  ];
  const body = [];
  const growths = [];
  for (const [name, create] of kinds) {
    // A first pass warms the JIT and interns strings so that they are not counted against the breaker.
    await footprint(create, CHECKPOINTS.slice(0, 2));
    const heap = await footprint(create);
    const growth = heap[heap.length - 1] - heap[1];
    growths.push([name, growth]);
    body.push([
      name,
      ...heap.map(kib),
      ((growth / (CHECKPOINTS[CHECKPOINTS.length - 1] - CHECKPOINTS[1])) * 1000).toFixed(2),
    ]);
  }
  printGrid(
    `4. Heap held by one breaker (KiB over the heap before it was created, after gc), 1 in ${FAIL_EVERY} calls failing`,
    ['breaker', ...CHECKPOINTS.map((n) => `${int(n)} calls`), 'bytes per 1k calls (100k->1M)'],
    body,
    [false, true, true, true, true, true],
  );
  verdict(
    'breaker memory flat over 1M calls',
    growths.every(([, growth]) => growth <= FLAT_BYTES),
    growths.map(([name, growth]) => `${name} ${kib(growth)} KiB from 100k to 1M calls`).join(', '),
  );
}
