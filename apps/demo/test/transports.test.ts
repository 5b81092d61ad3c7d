import { adminQuery, databaseUrl, deleteNatsStreams, natsServers, rabbitMqUrl, uniqueName } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCompletionFlow, checkConcurrentCompletes, checkRedeliveryIsIdempotent } from './challenge-flow.js';
import { CHALLENGE_COMPLETED } from '../src/challenges/challenge-service.js';
import { CONSUMER_GROUP } from '../src/platform/messaging.js';
import { deleteRabbitMqTopics } from './broker-cleanup.js';
import { HEALTH_TOKEN, startDemo, type RunningDemo } from './demo-instance.js';

// The service's flow (a completion written to the outbox in the request's transaction, relayed to
// the bus, consumed idempotently into the statistics) on each broker the bus can use, against the
// real servers. Each run has its own schema and its own names on the broker.

interface Transport {
  name: string;
  adapter: string;
  env: Record<string, string> | undefined;
  /** The broker drops a message whose id it has seen (the consumer's idempotency is not reached). */
  brokerDeduplicates?: boolean;
  /** Removes what the run created on the broker (everything named with `prefix`). */
  cleanUp?: (prefix: string) => Promise<unknown>;
}

const rabbitmq = rabbitMqUrl('the demo flow on RabbitMQ');
const nats = natsServers('the demo flow on NATS JetStream');
const transports: Transport[] = [
  {
    name: 'RabbitMQ',
    adapter: 'rabbitmq',
    env: rabbitmq === undefined ? undefined : { RABBITMQ_URL: rabbitmq },
    cleanUp: (prefix) =>
      deleteRabbitMqTopics(rabbitmq ?? '', prefix, [CHALLENGE_COMPLETED, `${CHALLENGE_COMPLETED}.dlq`], CONSUMER_GROUP),
  },
  {
    name: 'NATS JetStream',
    adapter: 'nats',
    env: nats === undefined ? undefined : { NATS_SERVERS: nats },
    brokerDeduplicates: true,
    cleanUp: (prefix) => deleteNatsStreams(nats ?? '', prefix),
  },
  { name: 'a Postgres queue, no broker', adapter: 'postgres', env: { MESSAGING: 'postgres' } },
];

describe.each(transports)('the challenge flow on $name', ({ adapter, env, brokerDeduplicates, cleanUp }) => {
  let run: RunningDemo;
  const schema = uniqueName(`demo_${adapter}`);
  const prefix = `${schema}_`;

  beforeAll(async () => {
    if (env === undefined) return;
    run = await startDemo({
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      MESSAGING_PREFIX: prefix,
      ...env,
    });
  });

  afterAll(async () => {
    if (env === undefined) return;
    try {
      const report = await run.demo.close();
      expect(report.ok, JSON.stringify(report.steps)).toBe(true);
    } finally {
      // Also when the service did not start: what it created before failing goes too.
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await cleanUp?.(prefix);
    }
  });

  it.skipIf(env === undefined)('runs the bus on it, and its health check says so', async () => {
    expect(run.demo.resources.messaging.bus.adapter.name).toBe(adapter);
    const health = await run.http('GET', '/health', undefined, { authorization: `Bearer ${HEALTH_TOKEN}` });
    expect(health.body.status).toBe('pass');
    expect(health.body.checks.messaging[0].status).toBe('pass');
  });
  it.skipIf(env === undefined)('completes a challenge and updates statistics through the outbox and the bus', () =>
    checkCompletionFlow(run),
  );
  it.skipIf(env === undefined)('counts a message published twice once', () =>
    checkRedeliveryIsIdempotent(run, { brokerDeduplicates }),
  );
  it.skipIf(env === undefined)('loses no statistics under 50 concurrent completes', () =>
    checkConcurrentCompletes(run, 50),
  );
});
