// A consumer process for the Postgres inbox tests: handles a topic in one group from the built
// package, writing an effect row per message and acknowledging it in the same transaction through
// the inbox. Its parent SIGKILLs it; `stopAt` makes it stop still (and tell the parent) at a chosen
// point for message number `n`: 'mid-transaction' (effect written, not committed), 'after-commit'
// (committed, not yet acknowledged by the bus). `inbox` = 'off' acknowledges through the bus only.
// argv: url schema topic applicationName stopAt n inbox
import { Persistence } from '@infra/persistence';
import { createPgDriver } from '@infra/persistence/pg';
import { MessageBus } from '../dist/index.js';
import { createPostgresAdapter } from '../dist/postgres/index.js';

const [url, schema, topic, applicationName, stopAt, stopN, inbox] = process.argv.slice(2);
const driver = await createPgDriver({ connectionString: url, applicationName, poolSize: 10 });
const persistence = new Persistence({ driver });
const adapter = await createPostgresAdapter({ persistence, schema, visibilityTimeoutMs: 1000, pollIntervalMs: 200 });
const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
const forever = () => new Promise(() => undefined);

async function stop(point, n) {
  if (stopAt !== point || n !== Number(stopN)) return;
  process.send?.({ stopped: point, n });
  await forever();
}

await bus
  .subscribe(
    topic,
    async (payload, message) => {
      await persistence.withTransaction(async (tx) => {
        await tx.query(`INSERT INTO ${schema}.effects (topic, n, message_id, pid) VALUES ($1, $2, $3, $4)`, [
          topic,
          payload.n,
          message.id,
          process.pid,
        ]);
        await stop('mid-transaction', payload.n);
        if (inbox !== 'off') await adapter.inbox.ack(message);
      });
      process.send?.({ committed: payload.n });
      await stop('after-commit', payload.n);
    },
    { group: 'workers', concurrency: 8, maxInFlight: 32 },
  )
  .ready();
process.send?.({ ready: true });
