import { deleteNatsStreams, messageBusContract, natsServers, uniqueName } from '@infra/test-utils';
import { afterAll, describe } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createNatsAdapter } from './nats-adapter.js';

const servers = natsServers('@infra/messaging NATS JetStream contract');
const run = uniqueName('nats');
const streamPrefix = `${run}_`;

describe.skipIf(!servers)('nats', () => {
  messageBusContract({
    name: 'nats jetstream',
    create: async ({ claimIdleMs }) =>
      new MessageBus({
        adapter: await createNatsAdapter({
          servers,
          streamPrefix,
          subjectPrefix: run,
          ackWaitMs: claimIdleMs,
          fetchWaitMs: 500,
        }),
        lagIntervalMs: 0,
      }),
    capabilities: { orderingPerKey: false, persistence: true, consumerGroups: true, replay: true },
  });

  afterAll(async () => {
    await deleteNatsStreams(servers ?? '', streamPrefix);
  });
});
