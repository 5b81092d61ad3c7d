// Three kinds of ambient context (a request, a transaction, a message) around work that awaits ten
// times: as three ContextSlots of @infra/core (one shared AsyncLocalStorage) against the same three
// contexts as one AsyncLocalStorage each, as the packages had them. Each side runs in a fresh child
// process, because a storage once used stays active for the life of the process; rounds alternate
// which side goes first, and the medians are compared.
//   pnpm --filter @infra/core build && node bench/context-slot.mjs     BENCH_ROUNDS (default 5)
import { fork } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const CALLS = 200_000;
const side = process.argv[2];

async function work() {
  for (let i = 0; i < 10; i++) await null;
}

if (side === undefined) {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const results = { slots: [], storages: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? ['slots', 'storages'] : ['storages', 'slots']) {
      const child = fork(fileURLToPath(import.meta.url), [name]);
      const [perCall] = await once(child, 'message');
      results[name].push(perCall);
      await once(child, 'exit');
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  for (const [name, values] of Object.entries(results)) {
    console.log(`${name.padEnd(9)} µs per call (3 contexts, 10 awaits): ${values.map((v) => v.toFixed(2)).join(' ')}`);
  }
  const ratio = median(results.storages) / median(results.slots);
  console.log(
    `\nNode ${process.version}: ContextSlot ${ratio.toFixed(2)}x the calls per second of one storage per context`,
  );
} else {
  let run;
  if (side === 'slots') {
    const { ContextSlot } = await import('../dist/index.js');
    const [request, transaction, message] = ['request', 'transaction', 'message'].map((name) => new ContextSlot(name));
    run = (i) => request.run(i, () => transaction.run(i, () => message.run(i, work)));
  } else {
    const [request, transaction, message] = [0, 1, 2].map(() => new AsyncLocalStorage());
    run = (i) => request.run(i, () => transaction.run(i, () => message.run(i, work)));
  }
  for (let i = 0; i < CALLS / 4; i++) await run(i);
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await run(i);
  process.send(((performance.now() - started) * 1000) / CALLS);
}
