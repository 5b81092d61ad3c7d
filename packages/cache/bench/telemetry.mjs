// What tracing costs the memory cache, in one process, on the built package (dist/): each operation
// with @opentelemetry/api hidden (as if not installed), with the API installed but no SDK, and with
// a recording SDK (batch processor, exporting to nowhere); lru-cache behind an `await` anchors the
// figures to the main benchmark's.
// Run: node --expose-gc bench/telemetry.mjs
import { existsSync } from 'node:fs';
import { hideOtelApi } from '@infra/core/testing';
import { telemetryModes } from '@infra/test-utils/bench/telemetry-modes';
import { LRUCache } from 'lru-cache';
import { measure, print } from './harness.mjs';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('@infra/cache is not built: run `pnpm --filter @infra/cache build` first');
  process.exit(1);
}
const { InMemoryCacheService } = await import('../dist/index.js');

const modes = telemetryModes(hideOtelApi);
const value = { id: 1, title: 'Two sum', tags: ['arrays', 'hash'], score: 9.5 };
const lru = new LRUCache({ max: 10_000, ttl: 60_000 });
const cache = new InMemoryCacheService('bench', { maxEntries: 10_000, ttl: 60, serialize: false });
lru.set('k', value);
await cache.set('k', value);
let i = 0;

const setups = { 'API not installed': modes.absent, 'API, no SDK': modes.noSdk, 'SDK recording': modes.sdk };
const operations = {
  get: () => cache.get('k'),
  'getOrSet hit': () => cache.getOrSet('k', () => value),
  set: () => cache.set(`k${i++ % 5000}`, value),
};
const tasks = [{ name: 'lru-cache get, awaited', call: async () => lru.get('k'), setup: modes.absent }];
const against = {};
for (const [operation, call] of Object.entries(operations)) {
  for (const [mode, setup] of Object.entries(setups)) {
    const name = `memory ${operation}, ${mode}`;
    tasks.push({ name, call, setup });
    against[name] = mode === 'API not installed' ? 'lru-cache get, awaited' : `memory ${operation}, API not installed`;
  }
}
const results = await measure(tasks);
modes.absent();
print('memory cache (by reference) with and without tracing (ratio: ops/s against the named row)', results, against);
console.log(`\nspans exported while the SDK recorded: ${modes.exported().toLocaleString('en-US')}`);
await cache.close();
