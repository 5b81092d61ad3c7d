// Section 3: retry + breaker + timeout composed.
import {
  ExponentialBackoff,
  TimeoutStrategy,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  wrap as cockatielWrap,
  handleAll,
} from 'cockatiel';
import { retry, timeout, wrap } from '../dist/index.js';
import { measure, printTable, ratio, verdict } from './harness.mjs';
import { MAX_ATTEMPTS, cockatielBreakers, infraBreakers, opossum, shutdownOpossums, work } from './peers.mjs';

/** Per-attempt timeout of the composed pipelines: long enough never to fire. */
const TIMEOUT_MS = 5000;

/**
 * opossum has no retry or composition: the closest equivalent is its breaker with a timeout, fired
 * from a retry loop.
 */
function opossumRetrying(breaker) {
  return async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await breaker.fire();
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  };
}

export async function benchComposed() {
  const infra = wrap(retry({ maxAttempts: MAX_ATTEMPTS }), infraBreakers.default(), timeout(TIMEOUT_MS));
  const cockatiel = cockatielWrap(
    cockatielRetry(handleAll, { maxAttempts: MAX_ATTEMPTS, backoff: new ExponentialBackoff() }),
    cockatielBreakers.sampling(),
    cockatielTimeout(TIMEOUT_MS, TimeoutStrategy.Aggressive),
  );
  const opossumCall = opossumRetrying(opossum(work, { timeout: TIMEOUT_MS }));
  try {
    const rows = await measure('composed', [
      { name: 'no policy', note: 'await fn() alone: the floor', call: work },
      {
        name: '@infra wrap',
        note: `wrap(retry, breaker (defaults: last 100 calls), timeout(${TIMEOUT_MS}))`,
        call: () => infra.execute(work),
      },
      {
        name: 'cockatiel wrap',
        note: `wrap(retry, breaker (SamplingBreaker), timeout(${TIMEOUT_MS}, Aggressive))`,
        call: () => cockatiel.execute(work),
      },
      {
        name: 'opossum + retry loop',
        note: `breaker { timeout: ${TIMEOUT_MS} } fired from a ${MAX_ATTEMPTS}-attempt loop: closest equivalent`,
        call: opossumCall,
      },
    ]);
    const [, mine, theirs, op] = rows;
    printTable('3. Composed retry + breaker + timeout (sequential calls)', rows, {
      'vs cockatiel': theirs,
      'vs opossum': op,
    });
    verdict(
      'composed no slower than cockatiel',
      mine.opsPerSec >= theirs.opsPerSec,
      ratio(mine.opsPerSec, theirs.opsPerSec),
    );
    verdict('composed >= 3x opossum', mine.opsPerSec >= 3 * op.opsPerSec, ratio(mine.opsPerSec, op.opsPerSec));
  } finally {
    shutdownOpossums();
  }
}
