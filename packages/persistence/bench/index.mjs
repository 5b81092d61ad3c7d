// Benchmarks for @infra/persistence, in one run: withTransaction (one INSERT) against raw pg
// BEGIN/INSERT/COMMIT on the same pool, one caller (tinybench) and 16 concurrent callers; PGlite
// against Postgres for the same workload; then 10k transactions with random failures and a count
// of leaked connections. Needs a build (`pnpm build`) and Postgres (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test).
// Run: node --expose-gc bench/index.mjs [single] [concurrent] [pglite] [leaks]   (no argument: all)
import pg from 'pg';
import { Bench } from 'tinybench';
import { TransactionManager } from '../dist/index.js';
import { createPgDriver } from '../dist/pg/index.js';
import { createPgliteDriver } from '../dist/pglite/index.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const time = Number(process.env.BENCH_TIME_MS ?? 1500);
const concurrentTotal = Number(process.env.BENCH_CONCURRENT_TX ?? 4000);
const leakTotal = Number(process.env.BENCH_LEAK_TX ?? 10_000);
const schema = `bench_persistence_${process.pid}`;

const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const pool = new pg.Pool({ connectionString: url, max: 16, options: `-c search_path=${schema}` });
await pool.query('CREATE TABLE events (id bigserial PRIMARY KEY, payload text NOT NULL)');
const driver = await createPgDriver({ pool });
const manager = new TransactionManager(driver);

const insert = 'INSERT INTO events (payload) VALUES ($1)';
const raw = async () => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(insert, ['x']);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
};
const ours = (target) => () => target.withTransaction((tx) => tx.query(insert, ['x']));

/** Transactions per second with `callers` concurrent callers, `total` transactions in all. */
async function throughput(fn, callers, total) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next++ < total) await fn();
    }),
  );
  return (total / (performance.now() - started)) * 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const sections = ['single', 'concurrent', 'pglite', 'leaks'];
const chosen = process.argv.slice(2);
for (const name of chosen) if (!sections.includes(name)) throw new Error(`Unknown section "${name}"`);
const runs = (name) => chosen.length === 0 || chosen.includes(name);

async function single() {
  console.log('--- one caller (tinybench) ---');
  const bench = new Bench({ time, warmupTime: 300 });
  bench.add('raw pg BEGIN/INSERT/COMMIT', raw).add('withTransaction (one INSERT)', ours(manager));
  await bench.run();
  console.table(bench.table());
  const hz = (name) => bench.tasks.find((t) => t.name === name).result.throughput.mean;
  const single = hz('withTransaction (one INSERT)') / hz('raw pg BEGIN/INSERT/COMMIT');
  console.log(
    `withTransaction / raw pg throughput, one caller: ${single.toFixed(3)} (overhead ${((1 / single - 1) * 100).toFixed(1)}%)`,
  );
}

async function concurrent() {
  console.log('\n--- 16 concurrent callers, same pool (16 connections), alternating rounds ---');
  const rawRuns = [];
  const ourRuns = [];
  for (let round = 0; round < 3; round++) {
    rawRuns.push(await throughput(raw, 16, concurrentTotal));
    ourRuns.push(await throughput(ours(manager), 16, concurrentTotal));
  }
  const rawTps = median(rawRuns);
  const ourTps = median(ourRuns);
  console.log(`raw pg:          ${rawTps.toFixed(0)} tx/s (median of ${rawRuns.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`withTransaction: ${ourTps.toFixed(0)} tx/s (median of ${ourRuns.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(
    `withTransaction / raw pg, 16 callers: ${(ourTps / rawTps).toFixed(3)} (overhead ${((rawTps / ourTps - 1) * 100).toFixed(1)}%; target <= 10%)`,
  );
  postgresTps = ourTps;
}

/** withTransaction on Postgres, 16 callers, when the concurrent section ran. */
let postgresTps;

async function pglite() {
  console.log('\n--- PGlite (in memory) against Postgres, same workload, 16 callers ---');
  const lite = await createPgliteDriver();
  await lite.query('CREATE TABLE events (id bigserial PRIMARY KEY, payload text NOT NULL)');
  const liteManager = new TransactionManager(lite);
  const liteTps = await throughput(ours(liteManager), 16, concurrentTotal);
  const against = postgresTps === undefined ? '' : `; PGlite / Postgres: ${(liteTps / postgresTps).toFixed(2)}`;
  console.log(`PGlite withTransaction: ${liteTps.toFixed(0)} tx/s${against}`);
  await liteManager.close();
  await lite.close();
}

async function leaks() {
  console.log(`\n--- ${leakTotal} transactions with random failures, 16 callers ---`);
  const outcomes = { committed: 0, thrown: 0, sqlError: 0, savepointRolledBack: 0 };
  let n = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (n++ < leakTotal) {
        const dice = Math.random();
        try {
          await manager.withTransaction(
            async (tx) => {
              await tx.query(insert, ['leak']);
              if (dice < 0.1) throw new Error('application failure');
              if (dice < 0.15) await tx.query('SELECT * FROM no_such_table');
              if (dice < 0.25) {
                await tx
                  .withTransaction(async () => {
                    throw new Error('savepoint failure');
                  })
                  .catch(() => outcomes.savepointRolledBack++);
              }
            },
            { retries: 0 },
          );
          outcomes.committed++;
        } catch (error) {
          if (error.code === 'QUERY_FAILED') outcomes.sqlError++;
          else outcomes.thrown++;
        }
      }
    }),
  );
  const { rows } = await admin.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND application_name = ''",
  );
  console.log('outcomes:', outcomes);
  console.log(
    `leaked: ${driver.leasedConnections} leases, ${manager.openTransactions} open transactions, ` +
      `${pool.totalCount - pool.idleCount} pool clients checked out, ${rows[0].n} sessions idle in transaction`,
  );
  if (driver.leasedConnections !== 0 || manager.openTransactions !== 0 || pool.totalCount !== pool.idleCount)
    process.exitCode = 1;
}

try {
  if (runs('single')) await single();
  if (runs('concurrent')) await concurrent();
  if (runs('pglite')) await pglite();
  if (runs('leaks')) await leaks();
} finally {
  await manager.close();
  await pool.end();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
