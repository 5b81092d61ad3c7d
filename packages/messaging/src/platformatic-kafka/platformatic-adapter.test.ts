import { kafkaBrokers, messageBusContract, uniqueName } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createPlatformaticKafkaAdapter } from './platformatic-adapter.js';

const brokers = kafkaBrokers('@infra/messaging @platformatic/kafka contract suite');

describe.skipIf(!brokers)('platformatic-kafka broker', () => {
  const prefix = uniqueName('messaging_pkafka').replaceAll('_', '-');
  messageBusContract({
    name: 'platformatic-kafka',
    create: async () => {
      const adapter = await createPlatformaticKafkaAdapter({
        brokers,
        clientId: prefix,
        sessionTimeoutMs: 6000,
        heartbeatMs: 500,
      });
      return withRunGroups(new MessageBus({ adapter, lagIntervalMs: 0, group: prefix }), prefix);
    },
    capabilities: { orderingPerKey: true, persistence: true, consumerGroups: true, replay: true },
    timeoutMs: 60_000,
  });
});

describe('platformatic-kafka adapter options', () => {
  it('rejects bad options with coded errors that name them', async () => {
    await expect(createPlatformaticKafkaAdapter({ brokers: 'no-port' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('no-port'),
    });
    await expect(createPlatformaticKafkaAdapter({ brokers: '127.0.0.1:9', retryDelayMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('retryDelayMs'),
    });
    await expect(
      createPlatformaticKafkaAdapter({ brokers: '127.0.0.1:9', requestTimeoutMs: 1.5 }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('1.5') });
    await expect(createPlatformaticKafkaAdapter({ brokers: '127.0.0.1:9', acks: 2 as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('acks'),
    });
  });
});

/** Groups live on the broker, shared with every other run: the suite's group names get this run's prefix. */
function withRunGroups(bus: MessageBus, prefix: string): MessageBus {
  const original = bus.subscribe.bind(bus);
  bus.subscribe = (topic, handler, options) =>
    original(topic, handler, options?.group ? { ...options, group: `${prefix}-${options.group}` } : options);
  return bus;
}
