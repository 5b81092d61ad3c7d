import { adminQuery, databaseUrl, messageBusContract, uniqueName } from '@infra/test-utils';
import { afterAll } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createPostgresAdapter } from './postgres-adapter.js';

const schema = uniqueName('messaging_pg');

messageBusContract({
  name: 'postgres',
  // One message per key in flight: 25 messages of a key take 25 round trips to the database, which
  // a loaded machine stretches well past the default 10 s.
  timeoutMs: 30_000,
  create: async ({ claimIdleMs }) =>
    new MessageBus({
      adapter: await createPostgresAdapter({
        connectionString: databaseUrl,
        schema,
        visibilityTimeoutMs: claimIdleMs,
        pollIntervalMs: 500,
        poolSize: 4,
      }),
      lagIntervalMs: 0,
    }),
  capabilities: { orderingPerKey: true, persistence: true, consumerGroups: true, replay: true },
});

afterAll(async () => {
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});
