// A consumer process for the RabbitMQ fault tests, which its parent SIGKILLs mid-stream: consumes one
// topic in one group from the built package and reports each message it handled (before the bus
// acknowledges it, so that a kill can leave handled messages unacknowledged).
// argv: url exchangePrefix topic group prefetch holdAfter
// After `holdAfter` messages its handlers stop finishing, as in a process that hangs, and it reports
// each message it holds so: those are unacknowledged for certain when the parent kills it.
import { MessageBus } from '../dist/index.js';
import { createRabbitMqAdapter } from '../dist/rabbitmq/index.js';

const [url, exchangePrefix, topic, group, prefetch, holdAfter] = process.argv.slice(2);
let handled = 0;
const adapter = await createRabbitMqAdapter({ url, exchangePrefix, prefetch: Number(prefetch) });
const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
await bus
  .subscribe(
    topic,
    async (payload) => {
      if (handled >= Number(holdAfter)) {
        process.send?.({ holding: payload.seq });
        await new Promise(() => undefined);
      }
      handled += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      process.send?.({ handled: payload.seq });
    },
    { group, concurrency: 8, maxInFlight: 32 },
  )
  .ready();
process.send?.({ ready: true });
