// A replica of a service for the NATS fault tests: consumes one topic in one group from the built
// package and reports to its parent (which may SIGKILL it at any time) each message it handles.
// argv: servers streamPrefix subjectPrefix group topic ackWaitMs
import { MessageBus } from '../dist/index.js';
import { createNatsAdapter } from '../dist/nats/index.js';

const [servers, streamPrefix, subjectPrefix, group, topic, ackWaitMs] = process.argv.slice(2);
const adapter = await createNatsAdapter({ servers, streamPrefix, subjectPrefix, ackWaitMs: Number(ackWaitMs) });
const bus = new MessageBus({ adapter, group, lagIntervalMs: 0 });
await bus
  .subscribe(
    topic,
    async (payload, message) => {
      // A little work per message, so that some are in flight when the parent kills this process.
      await new Promise((resolve) => setTimeout(resolve, 5));
      process.send?.({ handled: { seq: payload.seq, deliveryCount: message.deliveryCount } });
    },
    { concurrency: 4, maxInFlight: 20 },
  )
  .ready();
process.send?.({ ready: true });
