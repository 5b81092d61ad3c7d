// Section 1: per-call overhead of a closed breaker's execute on an immediately resolving function.
import { TimeoutStrategy, timeout as cockatielTimeout, wrap as cockatielWrap } from 'cockatiel';
import { measure, printTable, ratio, verdict } from './harness.mjs';
import { cockatielBreakers, infraBreakers, opossum, shutdownOpossums, work } from './peers.mjs';

export async function benchBreaker() {
  const infraTime = infraBreakers.time();
  const infraCount = infraBreakers.count();
  const infraConsecutive = infraBreakers.consecutive();
  const cockConsecutive = cockatielBreakers.consecutive();
  const cockSampling = cockatielBreakers.sampling();
  const cockCount = cockatielBreakers.count();
  const opDefault = opossum(work);
  const opNoTimeout = opossum(work, { timeout: false });

  try {
    const rows = await measure('breaker', [
      { name: 'no policy', note: 'await fn() alone: the floor', call: work },
      { name: '@infra time window', note: '10 s window, 10 buckets', call: () => infraTime.execute(work) },
      { name: '@infra count window', note: 'last 100 calls (the default)', call: () => infraCount.execute(work) },
      {
        name: '@infra consecutive',
        note: 'count window + consecutiveFailures: 5',
        call: () => infraConsecutive.execute(work),
      },
      { name: 'cockatiel consecutive', note: 'ConsecutiveBreaker(5)', call: () => cockConsecutive.execute(work) },
      { name: 'cockatiel sampling', note: 'SamplingBreaker 0.5 over 10 s', call: () => cockSampling.execute(work) },
      { name: 'cockatiel count', note: 'CountBreaker 0.5 over 100 calls', call: () => cockCount.execute(work) },
      { name: 'opossum default', note: 'default options: 10 s timeout timer per call', call: () => opDefault.fire() },
      { name: 'opossum timeout:false', note: 'no per-call timer', call: () => opNoTimeout.fire() },
    ]);
    const byName = Object.fromEntries(rows.map((row) => [row.name, row]));
    /** Each @infra breaker and the cockatiel breaker with the same window semantics. */
    const counterparts = {
      '@infra time window': byName['cockatiel sampling'],
      '@infra count window': byName['cockatiel count'],
      '@infra consecutive': byName['cockatiel consecutive'],
    };
    const opossumNoTimeout = byName['opossum timeout:false'];
    printTable('1. Breaker execute(), closed, async fn resolving immediately (sequential calls)', rows, {
      'vs cockatiel same window': (row) => counterparts[row.name],
      'vs opossum timeout:false': opossumNoTimeout,
    });

    const pairs = Object.entries(counterparts).map(([name, theirs]) => [byName[name], theirs]);
    verdict(
      'breaker no slower than cockatiel (same window kind)',
      pairs.every(([mine, theirs]) => mine.opsPerSec >= theirs.opsPerSec),
      pairs
        .map(([mine, theirs]) => `${mine.name}/${theirs.name} ${ratio(mine.opsPerSec, theirs.opsPerSec)}`)
        .join(', '),
    );
    const mine = pairs.map(([row]) => row);
    verdict(
      'breaker >= 3x opossum (both without per-call timeout)',
      mine.every((row) => row.opsPerSec >= 3 * opossumNoTimeout.opsPerSec),
      mine.map((row) => `${row.name} ${ratio(row.opsPerSec, opossumNoTimeout.opsPerSec)}`).join(', '),
    );
  } finally {
    shutdownOpossums();
  }
}

/** The documented breaker ({ failureThreshold: 0.5, resetTimeout: 30000, timeout: 5000 }) vs opossum's defaults. */
export async function benchBreakerWithTimeout() {
  const documented = infraBreakers.documented();
  const cockatiel = cockatielWrap(cockatielBreakers.sampling(), cockatielTimeout(5000, TimeoutStrategy.Aggressive));
  const opDefault = opossum(work);
  try {
    const rows = await measure('breaker with timeout', [
      {
        name: '@infra documented config',
        note: '{ failureThreshold: 0.5, resetTimeout: 30000, timeout: 5000 }',
        call: () => documented.execute(work),
      },
      {
        name: 'cockatiel breaker+timeout',
        note: 'wrap(SamplingBreaker 0.5/10 s, timeout 5 s aggressive), for reference',
        call: () => cockatiel.execute(work),
      },
      { name: 'opossum default', note: 'default options: 10 s timeout', call: () => opDefault.fire() },
    ]);
    const [infra, cock, op] = rows;
    printTable('1b. Breaker with a per-call timeout: the documented configuration vs opossum defaults', rows, {
      'vs cockatiel': cock,
      'vs opossum': op,
    });
    verdict(
      'documented breaker >= 3x opossum default',
      infra.opsPerSec >= 3 * op.opsPerSec,
      ratio(infra.opsPerSec, op.opsPerSec),
    );
  } finally {
    shutdownOpossums();
  }
}
