// Outbox relay throughput on real Postgres: rows written by committed transactions, then relayed
// (locked with FOR UPDATE SKIP LOCKED, published, marked sent) to a memory bus.
import { Persistence, addToOutbox, outboxMigration } from '@infra/persistence';
import { createPgDriver } from '@infra/persistence/pg';
import pg from 'pg';
import { MemoryAdapter, MessageBus } from '../dist/index.js';
import { OutboxRelay } from '../dist/outbox/index.js';
import { best, rate, until } from './stats.mjs';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(sql) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function outboxRelay(count, batchSize = 500) {
  const schema = `bench_outbox_${process.pid}`;
  await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const driver = await createPgDriver({ connectionString: databaseUrl, searchPath: schema, poolSize: 4 });
  const persistence = new Persistence({ driver });
  try {
    await persistence.migrate({ migrations: [outboxMigration()] });
    return await best(async () => {
      for (let offset = 0; offset < count; offset += 1000) {
        await persistence.withTransaction(async (tx) => {
          for (let i = offset; i < Math.min(count, offset + 1000); i++)
            await addToOutbox(tx, 'bench.outbox', { i }, { headers: { 'correlation-id': `c-${i}` } });
        });
      }
      const bus = new MessageBus({ adapter: new MemoryAdapter({ maxLen: count }), lagIntervalMs: 0 });
      let handled = 0;
      await bus.subscribe('bench.outbox', () => void handled++, { concurrency: 64, maxInFlight: 2048 }).ready();
      const relay = new OutboxRelay({ persistence, bus, batchSize });
      const start = performance.now();
      const relayed = await relay.drain();
      const ms = performance.now() - start;
      await until(() => handled === count);
      await relay.close();
      await bus.close();
      if (relayed !== count) throw new Error(`relayed ${relayed} of ${count}`);
      await persistence.query('TRUNCATE outbox');
      return { rate: rate(count, ms) };
    });
  } finally {
    await persistence.close();
    await driver.close();
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}
