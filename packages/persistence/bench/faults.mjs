// Fault benchmark of @infra/persistence: money transfers between 20 accounts (rows locked in id
// order, a ledger row per transfer) by 16 concurrent callers, before, during and after the
// database connections are cut (a TCP proxy of the benchmark's own in front of Postgres refuses
// and drops every connection for one phase). Compared in the same run, each through its own proxy
// cut at the same moment: `runUnitOfWork` on a pg driver (`queryTimeoutMs` set), and the same
// transfer hand-written on a raw node-postgres Pool. Reports committed transfers per second, p99
// latency, failures by code, and what was lost: transfers reported committed but absent from the
// ledger, ledger rows nobody was told of, and whether the balances still add up.
//
//   node bench/faults.mjs     (after `pnpm build`; DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_PHASE_MS=3000 by default; the shared Postgres itself is never touched.
import { createServer, connect } from 'node:net';
import pg from 'pg';
import { Persistence } from '../dist/index.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 3000);
const CALLERS = 16;
const ACCOUNTS = 20;
const schema = `bench_pg_faults_${process.pid}`;

const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
await admin.query(`CREATE TABLE ${schema}.accounts (id int PRIMARY KEY, balance bigint NOT NULL)`);
await admin.query(`CREATE TABLE ${schema}.ledger (id text PRIMARY KEY, src int NOT NULL, dst int NOT NULL)`);
await admin.query(`INSERT INTO ${schema}.accounts SELECT g, 1000000 FROM generate_series(1, ${ACCOUNTS}) g`);

const target = new URL(url);
const proxies = { ours: await startProxy(), raw: await startProxy() };
const through = (proxy) => {
  const via = new URL(url);
  via.host = `127.0.0.1:${proxy.port}`;
  return via.toString();
};

const persistence = new Persistence({
  connectionString: through(proxies.ours),
  searchPath: schema,
  poolSize: 8,
  connectTimeoutMs: 1000,
  acquireTimeoutMs: 2000,
  queryTimeoutMs: 2000,
});
persistence.on('error', () => undefined);
const pool = new pg.Pool({
  connectionString: through(proxies.raw),
  max: 8,
  connectionTimeoutMillis: 1000,
  options: `-c search_path=${schema}`,
});
pool.on('error', () => undefined);

const LOCK = 'SELECT id, balance FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE';
const MOVE = 'UPDATE accounts SET balance = balance + $2 WHERE id = $1';
const LEDGER = 'INSERT INTO ledger (id, src, dst) VALUES ($1, $2, $3)';

const clients = {
  ours: (id, from, to) =>
    persistence.runUnitOfWork(async (unitOfWork) => {
      const tx = unitOfWork.transaction;
      await tx.query(LOCK, [[from, to]]);
      await tx.query(MOVE, [from, -1]);
      await tx.query(MOVE, [to, 1]);
      await tx.query(LEDGER, [id, from, to]);
    }),
  raw: async (id, from, to) => {
    const client = await pool.connect();
    // Without this, a connection dropped while checked out crashes the process (pg emits 'error').
    const onError = () => undefined;
    client.on('error', onError);
    let broken;
    try {
      await client.query('BEGIN');
      await client.query(LOCK, [[from, to]]);
      await client.query(MOVE, [from, -1]);
      await client.query(MOVE, [to, 1]);
      await client.query(LEDGER, [id, from, to]);
      await client.query('COMMIT');
    } catch (error) {
      broken = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  },
};

const reported = { ours: new Set(), raw: new Set() };
const rows = [];
let sequence = 0;

async function phase(label) {
  const until = performance.now() + PHASE_MS;
  await Promise.all(
    Object.entries(clients).map(async ([name, transfer]) => {
      const latencies = [];
      const failures = {};
      let committed = 0;
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          while (performance.now() < until) {
            const id = `${name}-${++sequence}`;
            const from = 1 + Math.floor(Math.random() * ACCOUNTS);
            const to = 1 + ((from + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS);
            const started = performance.now();
            try {
              await transfer(id, from, to);
              committed++;
              reported[name].add(id);
            } catch (error) {
              const code = error?.code ?? 'other';
              failures[code] = (failures[code] ?? 0) + 1;
              // A caller whose transaction failed waits a little before its next one, as a client would.
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
            latencies.push(performance.now() - started);
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      rows.push({
        name,
        label,
        tps: (committed / PHASE_MS) * 1000,
        p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
        failures,
      });
    }),
  );
}

try {
  await phase('before');
  // Cut while transfers are in flight: some lose their connection mid-transaction or in COMMIT.
  const cutting = new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
    Promise.all([proxies.ours.cut(), proxies.raw.cut()]),
  );
  await phase('during (connections cut)');
  await cutting;
  await Promise.all([proxies.ours.restore(), proxies.raw.restore()]);
  await phase('after (network back)');
  await report();
} finally {
  await persistence.close();
  await pool.end();
  await proxies.ours.close();
  await proxies.raw.close();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}

async function report() {
  console.log(
    `\n@infra/persistence with its connections cut: ${CALLERS} callers each, transfers between ${ACCOUNTS} accounts,`,
  );
  console.log(`${PHASE_MS} ms per phase\n`);
  console.log('client              | phase                    | committed/s |  p99 ms | failures');
  console.log('------------------- | ------------------------ | ----------- | ------- | --------');
  const label = { ours: 'runUnitOfWork', raw: 'raw pg Pool' };
  for (const row of rows.sort((a, b) => a.name.localeCompare(b.name) * -1)) {
    const failures = Object.entries(row.failures)
      .map(([code, count]) => `${code} ${count}`)
      .join(', ');
    console.log(
      `${label[row.name].padEnd(19)} | ${row.label.padEnd(24)} | ${row.tps.toFixed(0).padStart(11)} | ${row.p99.toFixed(1).padStart(7)} | ${failures || '0'}`,
    );
  }
  const after = Object.fromEntries(
    rows.filter((row) => row.label.startsWith('after')).map((row) => [row.name, row.tps]),
  );
  const before = Object.fromEntries(rows.filter((row) => row.label === 'before').map((row) => [row.name, row.tps]));
  console.log(`\nthroughput before, runUnitOfWork / raw pg: ${(before.ours / before.raw).toFixed(2)}×`);
  console.log(`throughput after, runUnitOfWork / raw pg: ${(after.ours / after.raw).toFixed(2)}×`);
  const { rows: ledger } = await admin.query(`SELECT id FROM ${schema}.ledger`);
  const inLedger = new Set(ledger.map((row) => row.id));
  for (const name of ['ours', 'raw']) {
    const lost = [...reported[name]].filter((id) => !inLedger.has(id)).length;
    const untold = [...inLedger].filter((id) => id.startsWith(`${name}-`) && !reported[name].has(id)).length;
    console.log(
      `${label[name]}: ${reported[name].size} reported committed, lost ${lost}, committed but reported failed ${untold}`,
    );
  }
  const { rows: sum } = await admin.query(`SELECT sum(balance)::bigint AS total FROM ${schema}.accounts`);
  const expected = BigInt(ACCOUNTS) * 1000000n;
  console.log(`balances add up: ${BigInt(sum[0].total) === expected ? 'yes' : `NO (${sum[0].total} vs ${expected})`}`);
}

/** A forwarder to Postgres that can refuse and drop every connection, then forward again. */
async function startProxy() {
  const sockets = new Set();
  let server;
  let port = 0;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = server.address().port;
  };
  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    const closing = server;
    server = undefined;
    if (closing) await new Promise((resolve) => closing.close(resolve));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    cut,
    restore: listen,
    close: cut,
  };
}
