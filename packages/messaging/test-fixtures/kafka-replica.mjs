// A replica of a service for the Kafka fault tests: consumes the given topics in one group from the
// built package and reports to its parent (which may SIGKILL it at any time) each message it
// handles, and what its consumer hands out and commits (see kafka-recording.mjs).
// argv: client ('kafka' | 'platformatic-kafka') brokers group topic[,topic...]
import { MessageBus } from '../dist/index.js';
import { recordingClient } from './kafka-recording.mjs';

const [client, brokers, group, topics] = process.argv.slice(2);
const options = { brokers, clientId: `replica-${process.pid}`, sessionTimeoutMs: 6000, heartbeatMs: 500 };
const adapter =
  client === 'platformatic-kafka'
    ? await (await import('../dist/platformatic-kafka/index.js')).createPlatformaticKafkaAdapter(options)
    : await (await import('../dist/kafka/index.js')).createKafkaAdapter(options);
// The adapter's client layer, made by the factory as a user gets it, instrumented before any use.
adapter.kafka = recordingClient(adapter.kafka, 'replica', (record) => process.send?.({ record }));
const bus = new MessageBus({ adapter, group, lagIntervalMs: 0 });
const handlers = Object.fromEntries(
  topics.split(',').map((topic) => [
    topic,
    async (payload, message) => {
      // A little work per message, so that some are in flight when the parent kills this process.
      await new Promise((resolve) => setTimeout(resolve, 2));
      process.send?.({ handled: { topic, key: message.key, seq: payload.seq } });
    },
  ]),
);
await Promise.all(bus.consumer.subscribeAll(handlers, { startFrom: 'earliest' }).map((s) => s.ready()));
process.send?.({ ready: true });
