// A replica of a service for the NATS fault tests: consumes one topic in one group from the built
// package and reports to its parent (which may SIGKILL it at any time) each message it handles.
// argv: servers streamPrefix subjectPrefix group topic ackWaitMs holdAfter
// After `holdAfter` messages its handlers stop finishing, as in a process that hangs, and it reports
// each message it holds so: those are unacknowledged for certain when the parent kills it.
import { MessageBus } from '../dist/index.js';
import { createNatsAdapter } from '../dist/nats/index.js';

const [servers, streamPrefix, subjectPrefix, group, topic, ackWaitMs, holdAfter] = process.argv.slice(2);
let handled = 0;
const adapter = await createNatsAdapter({ servers, streamPrefix, subjectPrefix, ackWaitMs: Number(ackWaitMs) });
const bus = new MessageBus({ adapter, group, lagIntervalMs: 0 });
await bus
  .subscribe(
    topic,
    async (payload, message) => {
      if (handled >= Number(holdAfter)) {
        process.send?.({ holding: payload.seq });
        await new Promise(() => undefined);
      }
      handled += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      process.send?.({ handled: { seq: payload.seq, deliveryCount: message.deliveryCount } });
    },
    { concurrency: 4, maxInFlight: 20 },
  )
  .ready();
process.send?.({ ready: true });
