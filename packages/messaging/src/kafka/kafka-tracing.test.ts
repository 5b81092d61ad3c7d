import { eventually, uniqueName } from '@infra/test-utils';
import { startTestTracing, type TestTracing } from '@infra/test-utils/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageAdapter } from '../adapter.js';
import { MessageBus } from '../message-bus.js';
import { createPlatformaticKafkaAdapter } from '../platformatic-kafka/platformatic-adapter.js';
import { createKafkaAdapter } from './kafka-adapter.js';

const brokers = process.env.KAFKA_BROKERS;

// Both Kafka clients on a real broker: the trace context crosses the broker in the record headers,
// and the consumer span names where the record came from.
describe.skipIf(!brokers)('Kafka spans on a broker', () => {
  let tracing: TestTracing;
  beforeAll(() => {
    tracing = startTestTracing();
  });
  afterAll(async () => {
    await tracing.stop();
  });

  const clients: [string, (clientId: string) => Promise<MessageAdapter>][] = [
    ['kafkajs', (clientId) => createKafkaAdapter({ brokers, clientId, sessionTimeoutMs: 6000, heartbeatMs: 500 })],
    [
      '@platformatic/kafka',
      (clientId) => createPlatformaticKafkaAdapter({ brokers, clientId, sessionTimeoutMs: 6000, heartbeatMs: 500 }),
    ],
  ];

  it.each(clients)(
    'continues the producer trace in the process span, with partition, offset and key (%s)',
    async (_client, create) => {
      const prefix = uniqueName('messaging_ktrace').replaceAll('_', '-');
      const topic = `${prefix}-orders`;
      const bus = new MessageBus({ adapter: await create(prefix), lagIntervalMs: 0, group: prefix });
      try {
        const seen: string[] = [];
        await bus
          .subscribe(topic, (_payload, message) => void seen.push(message.id), { startFrom: 'earliest' })
          .ready();
        const { id } = await bus.publish(topic, { n: 1 }, { key: 'user-9' });
        await eventually(() => tracing.spansNamed(`process ${topic}`).length === 1, 60_000);
        const [producer] = tracing.spansNamed(`publish ${topic}`);
        const [consumer] = tracing.spansNamed(`process ${topic}`);
        expect(seen).toEqual([id]);
        expect(consumer?.spanContext().traceId).toBe(producer?.spanContext().traceId);
        expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
        expect(producer?.attributes).toMatchObject({
          'messaging.system': 'kafka',
          'messaging.kafka.message.key': 'user-9',
          'messaging.operation.type': 'send',
        });
        expect(consumer?.attributes).toMatchObject({
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.message.id': id,
          'messaging.consumer.group.name': prefix,
          'messaging.destination.partition.id': expect.stringMatching(/^\d+$/),
          'messaging.kafka.offset': expect.any(Number),
          'messaging.kafka.message.key': 'user-9',
        });
      } finally {
        await bus.close({ timeoutMs: 5000 });
      }
    },
    120_000,
  );
});
