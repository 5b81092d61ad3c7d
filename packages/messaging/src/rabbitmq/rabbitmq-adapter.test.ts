import { messageBusContract, rabbitMqUrl, uniqueName } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
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

  it('keeps the dead letters of a group until the group consumes its dead-letter topic', async () => {
    const bus = new MessageBus({
      adapter: topology.track(await createRabbitMqAdapter({ url, exchangePrefix })),
      retry: { maxAttempts: 1 },
      lagIntervalMs: 0,
    });
    try {
      const topic = `dead.kept.${String(Date.now())}`;
      const deadLettered: string[] = [];
      bus.on('deadLettered', (event) => void deadLettered.push(event.id));
      const failing = bus.subscribe(
        topic,
        () => {
          throw new Error('always fails');
        },
        { group: 'billing' },
      );
      await failing.ready();
      const { id } = await bus.publish(topic, { n: 1 });
      // Dead-lettered while nothing consumes `<topic>.dlq` yet: RabbitMQ would drop it on an exchange
      // with no queue, and the group's dead-letter queue was declared with its subscription.
      await expect.poll(() => deadLettered, { timeout: 30_000 }).toEqual([id]);
      const received: unknown[] = [];
      await bus.subscribe(`${topic}.dlq`, (payload) => void received.push(payload), { group: 'billing' }).ready();
      await expect.poll(() => received, { timeout: 30_000 }).toEqual([{ n: 1 }]);
    } finally {
      await bus.close({ timeoutMs: 1000 });
    }
  });

  afterAll(async () => {
    await topology.deleteAll(url as string);
  });
});
