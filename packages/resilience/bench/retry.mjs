// Section 2: retry pass-through (the call succeeds first time).
import { ExponentialBackoff, retry as cockatielRetry, handleAll } from 'cockatiel';
import { retry } from '../dist/index.js';
import { measure, printTable, ratio, verdict } from './harness.mjs';
import { MAX_ATTEMPTS, work } from './peers.mjs';

export async function benchRetry() {
  const infra = retry({ maxAttempts: MAX_ATTEMPTS });
  const cockatiel = cockatielRetry(handleAll, { maxAttempts: MAX_ATTEMPTS, backoff: new ExponentialBackoff() });
  const rows = await measure('retry', [
    { name: 'no policy', note: 'await fn() alone: the floor', call: work },
    { name: '@infra retry', note: `retry({ maxAttempts: ${MAX_ATTEMPTS} })`, call: () => infra.execute(work) },
    {
      name: 'cockatiel retry',
      note: `retry(handleAll, { maxAttempts: ${MAX_ATTEMPTS}, ExponentialBackoff })`,
      call: () => cockatiel.execute(work),
    },
  ]);
  const [, mine, theirs] = rows;
  printTable('2. Retry pass-through, no failure (sequential calls)', rows, { 'vs cockatiel': theirs });
  verdict(
    'retry no slower than cockatiel',
    mine.opsPerSec >= theirs.opsPerSec,
    ratio(mine.opsPerSec, theirs.opsPerSec),
  );
}
