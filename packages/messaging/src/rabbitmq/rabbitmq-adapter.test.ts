import { messageBusContract, rabbitMqUrl, uniqueName } from '@infra/test-utils';
import { afterAll, describe } from 'vitest';
import { TopologyRecorder } from '../../test/rabbitmq-topology.js';
import { MessageBus } from '../message-bus.js';
import { createRabbitMqAdapter } from './rabbitmq-adapter.js';

const url = rabbitMqUrl('RabbitMQ adapter contract');

describe.skipIf(!url)('RabbitMQ adapter', () => {
  const topology = new TopologyRecorder();
  const exchangePrefix = `${uniqueName('messaging_rabbitmq')}.`;

  messageBusContract({
    name: 'rabbitmq (competing consumers)',
    create: async () =>
      new MessageBus({
        adapter: topology.track(await createRabbitMqAdapter({ url, exchangePrefix })),
        lagIntervalMs: 0,
      }),
    capabilities: { orderingPerKey: false, persistence: true, consumerGroups: true, replay: false },
  });

  messageBusContract({
    name: 'rabbitmq (single active consumer)',
    create: async () =>
      new MessageBus({
        adapter: topology.track(
          await createRabbitMqAdapter({ url, exchangePrefix: `${exchangePrefix}sac.`, singleActiveConsumer: true }),
        ),
        lagIntervalMs: 0,
      }),
    capabilities: { orderingPerKey: true, persistence: true, consumerGroups: false, replay: false },
  });

  afterAll(async () => {
    await topology.deleteAll(url as string);
  });
});
