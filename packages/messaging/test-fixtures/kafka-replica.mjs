// A replica of a service for the Kafka fault tests: consumes the given topics in one group from the
// built package and reports each message it handles to its parent (which may SIGKILL it at any time).
// argv: brokers group topic[,topic...]
import { MessageBus } from '../dist/index.js';
import { createKafkaAdapter } from '../dist/kafka/index.js';

const [brokers, group, topics] = process.argv.slice(2);
const adapter = await createKafkaAdapter({
  brokers,
  clientId: `replica-${process.pid}`,
  sessionTimeoutMs: 6000,
  heartbeatMs: 500,
});
const bus = new MessageBus({ adapter, group, lagIntervalMs: 0 });
const handlers = Object.fromEntries(
  topics.split(',').map((topic) => [
    topic,
    async (payload, message) => {
      // A little work per message, so that some are in flight when the parent kills this process.
      await new Promise((resolve) => setTimeout(resolve, 2));
      process.send?.({ handled: { topic, key: message.key, seq: payload.seq, pid: process.pid } });
    },
  ]),
);
await Promise.all(bus.consumer.subscribeAll(handlers, { startFrom: 'earliest' }).map((s) => s.ready()));
process.send?.({ ready: true });
