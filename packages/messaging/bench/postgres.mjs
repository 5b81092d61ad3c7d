// The Postgres adapter through a MessageBus against pg-boss 10 and a raw SKIP LOCKED loop, on the
// built package (dist/) and one real Postgres (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test),
// in one process and one run, each in a schema of its own (dropped at the end). Each side does the
// same work with the same data:
//   publish: BATCH messages per call (bus.publishBatch, boss.insert, one INSERT … unnest), each stored
//            with one pending delivery/job (the adapter's topic has one group, as pg-boss's queue has
//            its one consumer).
//   consume: COUNT messages prefilled, then a consumer started and timed until every message is
//            handled (JSON payload in hand) AND acknowledged in the database (no delivery/job left
//            unfinished): the bus (batchSize and maxInFlight BATCH, concurrency 32); pg-boss
//            `work` with batchSize BATCH (its completion of a batch is one statement); the raw loop
//            deletes BATCH rows per statement with FOR UPDATE SKIP LOCKED (acknowledged as it is
//            fetched: a consumer that dies loses its batch); the raw lease + ack loop claims BATCH
//            rows with a lease (FOR UPDATE SKIP LOCKED), handles them, then deletes them. pg-boss
//            runs twice: its `work` worker, and its own fetch/complete in a tight loop (see below).
//            The raw envelope side stores what the adapter stores per message (topic, id, key,
//            headers, body, time) in one table and consumes with the lease + ack loop.
// Between publish and consume each side's tables are analyzed, as autovacuum keeps a live queue's
// statistics: without them the planner takes a queue for a sliver of its table.
// Rounds alternate which side goes first; every run is printed, the ratios compare best runs (others
// on a shared machine only ever add time) and medians.
//   pnpm --filter @infra/messaging build && node bench/postgres.mjs
//   BENCH_COUNT messages per run (default 20 000), BENCH_ROUNDS (default 3), BENCH_BATCH (default 500),
//   BENCH_SIDES (comma-separated side names; default all)
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { MessageBus } from '../dist/index.js';
import { createPostgresAdapter } from '../dist/postgres/index.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const count = Number(process.env.BENCH_COUNT ?? 20_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const batch = Number(process.env.BENCH_BATCH ?? 500);
const run = `bench_pg_${process.pid}`;
const schemas = { adapter: `${run}_adapter`, boss: `${run}_boss`, raw: `${run}_raw` };
const payload = (i) => ({ userId: `u${i % 100}`, challengeId: i, score: i % 10, at: '2026-01-01T00:00:00.000Z' });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (check) => {
  while (!(await check())) await sleep(10);
};
const measure = async (body) => {
  const started = performance.now();
  await body();
  return count / ((performance.now() - started) / 1000);
};
const admin = new pg.Pool({ connectionString: url, max: 2 });
let topics = 0;

// The adapter, through a bus, as a service uses it.
const adapter = await createPostgresAdapter({ connectionString: url, schema: schemas.adapter, batchSize: batch });
const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
const newTopic = async () => {
  const topic = `bench.${++topics}`;
  // Creates the group's queue: from now on each message published gets a delivery in it.
  const created = await adapter.subscribe({ topic, group: 'bench', consumer: 'setup', startFrom: 'latest' });
  await created.close([]);
  return topic;
};
const adapterPublish = (topic) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const requests = [];
      for (let j = i; j < Math.min(count, i + batch); j++) requests.push({ topic, payload: payload(j) });
      await bus.publishBatch(requests);
    }
  });
const adapterConsume = async (topic) => {
  let handled = 0;
  let subscription;
  return measure(async () => {
    subscription = bus.subscribe(
      topic,
      (value) => {
        if (value.challengeId >= 0) handled += 1;
      },
      { group: 'bench', concurrency: 32, maxInFlight: batch },
    );
    await until(() => handled >= count);
    await until(async () => {
      const backlog = await adapter.backlog(topic, 'bench');
      return backlog.pending + (backlog.lag ?? 0) === 0;
    });
  }).finally(() => subscription?.close());
};

// pg-boss, with its documented API.
const boss = new PgBoss({ connectionString: url, schema: schemas.boss, max: 10 });
boss.on('error', (error) => console.error('pg-boss error', error.message));
await boss.start();
const newQueue = async () => {
  const name = `bench-${++topics}`;
  await boss.createQueue(name);
  return name;
};
const bossPublish = (name) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const jobs = [];
      for (let j = i; j < Math.min(count, i + batch); j++) jobs.push({ name, data: payload(j) });
      await boss.insert(jobs);
    }
  });
const bossConsume = async (name) => {
  let handled = 0;
  let worker;
  return measure(async () => {
    worker = await boss.work(name, { batchSize: batch, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) if (job.data.challengeId >= 0) handled += 1;
    });
    await until(() => handled >= count);
    await until(async () => {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM ${schemas.boss}.job WHERE name = $1 AND state <> 'completed'`,
        [name],
      );
      return rows[0].n === 0;
    });
  }).finally(() => worker && boss.offWork(worker));
};

// pg-boss's worker waits out its polling interval (0.5 s at least) after every fetch, so `work` is
// bound to batchSize per 0.5 s; its own fetch/complete in a tight loop is pg-boss at its fastest.
const bossLoopConsume = (name) =>
  measure(async () => {
    let handled = 0;
    while (handled < count) {
      const jobs = await boss.fetch(name, { batchSize: batch });
      for (const job of jobs) if (job.data.challengeId >= 0) handled += 1;
      if (jobs.length === 0) await sleep(10);
      else
        await boss.complete(
          name,
          jobs.map((job) => job.id),
        );
    }
  });

// The floor: one table, INSERT … unnest, DELETE … FOR UPDATE SKIP LOCKED … RETURNING.
const raw = new pg.Pool({ connectionString: url, max: 10 });
await raw.query(`CREATE SCHEMA ${schemas.raw}`);
/** Makes a table per run: an id, the body, and `extraColumns`. */
const rawTable =
  (extraColumns = '') =>
  async () => {
    const table = `${schemas.raw}.q${++topics}`;
    await raw.query(
      `CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL${extraColumns})`,
    );
    return table;
  };
const rawPublish = (table) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const bodies = [];
      for (let j = i; j < Math.min(count, i + batch); j++) bodies.push(JSON.stringify(payload(j)));
      await raw.query(`INSERT INTO ${table} (body) SELECT * FROM unnest($1::text[])`, [bodies]);
    }
  });
const rawConsume = (table) =>
  measure(async () => {
    let handled = 0;
    while (handled < count) {
      const { rows } = await raw.query(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING body`,
        [batch],
      );
      for (const row of rows) if (JSON.parse(row.body).challengeId >= 0) handled += 1;
      if (rows.length === 0) await sleep(10);
    }
  });

// The raw loop with the adapter's acknowledgements: a batch is claimed with a lease (invisible to
// other consumers until it expires, as a consumer that dies must not lose it), handled, then deleted.
const rawLeasedConsume = (table) =>
  measure(async () => {
    let handled = 0;
    while (handled < count) {
      const { rows } = await raw.query(
        `UPDATE ${table} SET locked_until = now() + interval '30 seconds'
          WHERE id IN (SELECT id FROM ${table} WHERE locked_until IS NULL OR locked_until < now()
                        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id, body`,
        [batch],
      );
      for (const row of rows) if (JSON.parse(row.body).challengeId >= 0) handled += 1;
      if (rows.length === 0) await sleep(10);
      else await raw.query(`DELETE FROM ${table} WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)]);
    }
  });

// A raw client storing the envelope the adapter stores (topic, message id, key, headers as jsonb,
// body, publish time), built in JavaScript as the bus builds it, in one table with its primary key
// only. What the adapter's publish costs beyond storing the same data: the bus, a delivery row per
// group, the indexes that find a topic's messages and old messages, and the NOTIFY.
const rawEnvelopePublish = (table) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const columns = { topic: [], id: [], key: [], headers: [], body: [], time: [] };
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const id = randomUUID();
        columns.topic.push('bench');
        columns.id.push(id);
        columns.key.push(null);
        columns.headers.push(JSON.stringify({ 'correlation-id': id, 'content-type': 'application/json' }));
        columns.body.push(JSON.stringify(payload(j)));
        columns.time.push(Date.now());
      }
      await raw.query(
        `INSERT INTO ${table} (topic, message_id, key, headers, body, published_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::bigint[])`,
        [columns.topic, columns.id, columns.key, columns.headers, columns.body, columns.time],
      );
    }
  });

const bossTables = () => [`${schemas.boss}.job`];
const sides = {
  adapter: {
    make: newTopic,
    publish: adapterPublish,
    consume: adapterConsume,
    tables: () => [`"${schemas.adapter}".deliveries`, `"${schemas.adapter}".messages`],
  },
  'pg-boss work': { make: newQueue, publish: bossPublish, consume: bossConsume, tables: bossTables },
  'pg-boss loop': { make: newQueue, publish: bossPublish, consume: bossLoopConsume, tables: bossTables },
  'raw SKIP LOCKED': { make: rawTable(), publish: rawPublish, consume: rawConsume, tables: (table) => [table] },
  'raw lease + ack': {
    make: rawTable(', locked_until timestamptz'),
    publish: rawPublish,
    consume: rawLeasedConsume,
    tables: (table) => [table],
  },
  'raw envelope': {
    make: rawTable(
      ', topic text NOT NULL, message_id text NOT NULL, key text, headers jsonb NOT NULL, published_at bigint NOT NULL,' +
        ' stored_at timestamptz NOT NULL DEFAULT now(), locked_until timestamptz',
    ),
    publish: rawEnvelopePublish,
    consume: rawLeasedConsume,
    tables: (table) => [table],
  },
};
// BENCH_SIDES=adapter,raw lease + ack runs only the sides named (comma-separated).
const names = process.env.BENCH_SIDES ? process.env.BENCH_SIDES.split(',') : Object.keys(sides);
for (const name of names) if (!sides[name]) throw new Error(`BENCH_SIDES: no side "${name}" (${Object.keys(sides)})`);
const results = Object.fromEntries(names.map((name) => [name, { publish: [], consume: [] }]));
try {
  for (let round = 0; round < rounds; round++) {
    // Rotates who goes first.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const side = sides[name];
      const target = await side.make();
      const published = await side.publish(target);
      // Statistics, as autovacuum keeps them for a live queue: each side's tables were created and
      // filled faster than autovacuum analyzes them.
      await admin.query(`ANALYZE ${side.tables(target).join(', ')}`);
      // Prefilled by the publish just measured: the consumer reads all of it.
      const consumed = await side.consume(target);
      results[name].publish.push(published);
      results[name].consume.push(consumed);
      console.log(
        `round ${round + 1} ${name.padEnd(16)} publish ${published.toFixed(0).padStart(7)} msg/s   consume+ack ${consumed.toFixed(0).padStart(7)} msg/s`,
      );
    }
  }
  const top = (values) => Math.max(...values);
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  console.log(`\n${count} messages per run, batches of ${batch}, ${rounds} rounds (best / median, msg/s)`);
  for (const name of names) {
    const { publish, consume } = results[name];
    console.log(
      `${name.padEnd(16)} publish ${top(publish).toFixed(0)} / ${median(publish).toFixed(0)}   consume+ack ${top(consume).toFixed(0)} / ${median(consume).toFixed(0)}`,
    );
  }
  const ratio = (a, b, phase) =>
    `${(top(results[a][phase]) / top(results[b][phase])).toFixed(2)}x best, ${(median(results[a][phase]) / median(results[b][phase])).toFixed(2)}x median`;
  const ran = (...sideNames) => sideNames.every((name) => results[name]);
  console.log('');
  if (ran('adapter', 'pg-boss work', 'pg-boss loop'))
    console.log(
      `adapter vs pg-boss:  publish ${ratio('adapter', 'pg-boss work', 'publish')}; consume+ack ${ratio('adapter', 'pg-boss work', 'consume')} (work), ${ratio('adapter', 'pg-boss loop', 'consume')} (fetch/complete loop)`,
    );
  if (ran('adapter', 'raw SKIP LOCKED'))
    console.log(
      `adapter vs raw loop: publish ${ratio('adapter', 'raw SKIP LOCKED', 'publish')}; consume+ack ${ratio('adapter', 'raw SKIP LOCKED', 'consume')}`,
    );
  if (ran('adapter', 'raw envelope'))
    console.log(
      `adapter vs raw envelope (the same data stored, one table): publish ${ratio('adapter', 'raw envelope', 'publish')}; consume+ack ${ratio('adapter', 'raw envelope', 'consume')}`,
    );
  if (ran('adapter', 'raw lease + ack'))
    console.log(
      `adapter vs raw loop with leases and acks: consume+ack ${ratio('adapter', 'raw lease + ack', 'consume')}`,
    );
} finally {
  await bus.close({ timeoutMs: 1000 });
  await boss.stop({ graceful: false, wait: true });
  await raw.end();
  for (const schema of Object.values(schemas)) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
