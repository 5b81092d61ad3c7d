// The NATS JetStream adapter through a MessageBus against the raw @nats-io/jetstream client, on the
// built package (dist/) and a real server (NATS_SERVERS, default 127.0.0.1:4222), in one process and
// one run. Each pair does the same work with the same data:
//   publish: BATCH messages at a time, each awaited for JetStream's acknowledgement, all of a batch in
//            flight at once (the adapter's `publishBatchSize` is BATCH too), with a Nats-Msg-Id. The
//            bus builds its envelope (a UUID, correlation id, content type) and serializes strictly;
//            the raw client sends JSON.stringify of the payload with the same headers and a
//            crypto.randomUUID() id. Connections are open before anything is timed.
//   consume: a stream prefilled by the bus, read by a new durable pull consumer (explicit acks) from
//            the first message until JetStream counts none pending or unacknowledged, timed from
//            before the consumer is created. Both pull FETCH messages per request, parse each
//            message as JSON and acknowledge each: the raw client with `consumer.fetch()` and
//            `msg.ack()`, the bus with its handler and its batched acks. For reference, the raw
//            client's continuous `consume()` (a buffer of FETCH messages refilled ahead of use, which
//            the bus does not do: it pulls only what it has room for) is measured too.
// Rounds alternate which side of a pair goes first; each side's runs are all printed, and the ratios
// compare each side's best run (others on a shared machine only ever add time) and the medians.
//   pnpm --filter @infra/messaging build && node bench/nats.mjs
//   BENCH_COUNT messages per run (default 20 000), BENCH_ROUNDS (default 5), BENCH_BATCH (default 500),
//   BENCH_FETCH (default 100, the adapter's default `batchSize`)
import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { MessageBus } from '../dist/index.js';
import { eventPayload, measureMessages, printTransportReport } from './stats.mjs';
import { createNatsAdapter } from '../dist/nats/index.js';

const servers = process.env.NATS_SERVERS ?? '127.0.0.1:4222';
const count = Number(process.env.BENCH_COUNT ?? 20_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const batch = Number(process.env.BENCH_BATCH ?? 500);
const fetchMax = Number(process.env.BENCH_FETCH ?? 100);
const run = `bench_nats_${process.pid}_${Date.now()}`;
const streamPrefix = `${run}_`;

const nc = await connect({ servers: servers.split(','), name: run });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const adapter = await createNatsAdapter({
  servers,
  streamPrefix,
  subjectPrefix: run,
  publishBatchSize: batch,
  batchSize: fetchMax,
});
const bus = new MessageBus({ adapter, lagIntervalMs: 0 });

let topicCount = 0;
/** A new topic whose stream exists (created by the adapter, as both sides then use it). */
const newTopic = async () => {
  const topic = `t${++topicCount}`;
  await bus.publish(topic, { warm: true });
  return topic;
};

const until = async (check) => {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
};
const measure = (body) => measureMessages(count, body);

const rawPublish = (topic) =>
  measure(async () => {
    const subject = adapter.subject(topic);
    for (let i = 0; i < count; i += batch) {
      const acks = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const id = randomUUID();
        const h = headers();
        h.set('correlation-id', id);
        h.set('content-type', 'application/json');
        acks.push(js.publish(subject, JSON.stringify(eventPayload(j)), { msgID: id, headers: h }));
      }
      await Promise.all(acks);
    }
  });

const busPublish = (topic) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const requests = [];
      for (let j = i; j < Math.min(count, i + batch); j++) requests.push({ topic, payload: eventPayload(j) });
      await bus.publishBatch(requests);
    }
  });

/** Everything delivered to the group and acknowledged. */
const drained = async (stream, durable) => {
  const info = await jsm.consumers.info(stream, durable);
  return info.num_pending === 0 && info.num_ack_pending === 0;
};

/** A durable pull consumer of the whole stream with explicit acks, as the bus's consumers are. */
const durableConsumer = async (stream, durable) => {
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 30_000_000_000,
  });
  return js.consumers.get(stream, durable);
};

const rawConsume = (topic, round) =>
  measure(async () => {
    const stream = adapter.streamName(topic);
    const durable = `raw_${round}`;
    const consumer = await durableConsumer(stream, durable);
    let seen = 0;
    // The prefill's warm-up message is one more.
    while (seen < count + 1) {
      const messages = await consumer.fetch({ max_messages: fetchMax, expires: 1000 });
      for await (const msg of messages) {
        msg.json();
        msg.ack();
        // The last pull asks for more than is left: it is not waited out (the bus's pulls return early).
        if (++seen === count + 1) break;
      }
    }
    await nc.flush();
    await until(() => drained(stream, durable));
  });

/** The raw client's own continuous pulling (`consume()`, refilling its buffer of FETCH), for reference. */
const rawConsumeLoop = (topic, round) =>
  measure(async () => {
    const stream = adapter.streamName(topic);
    const durable = `rawloop_${round}`;
    const consumer = await durableConsumer(stream, durable);
    const messages = await consumer.consume({ max_messages: fetchMax });
    let seen = 0;
    for await (const msg of messages) {
      msg.json();
      msg.ack();
      if (++seen === count + 1) break;
    }
    await nc.flush();
    await until(() => drained(stream, durable));
  });

const busConsume = (topic, round) =>
  measure(async () => {
    const group = `bus_${round}`;
    let seen = 0;
    const subscription = bus.subscribe(topic, () => void (seen += 1), {
      group,
      startFrom: 'earliest',
      concurrency: 64,
      maxInFlight: 2000,
    });
    await subscription.ready();
    await until(() => seen >= count + 1 && drained(adapter.streamName(topic), adapter.consumerName(group)));
    await subscription.close();
  });

const sides = {
  'nats adapter publish': busPublish,
  '@nats-io/jetstream publish': rawPublish,
  'nats adapter consume': busConsume,
  '@nats-io/jetstream consume': rawConsume,
  '@nats-io/jetstream consume()': rawConsumeLoop,
};
const pairs = [
  ['nats adapter publish', '@nats-io/jetstream publish'],
  ['nats adapter consume', '@nats-io/jetstream consume'],
  ['nats adapter consume', '@nats-io/jetstream consume()'],
];

// Warm-up: connections, stream creation, JIT.
await busPublish(await newTopic());
await rawPublish(await newTopic());
const filled = await newTopic();
await busPublish(filled);

const runs = Object.fromEntries(Object.keys(sides).map((name) => [name, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const pair of pairs) {
      for (const name of round % 2 === 0 ? pair : [...pair].reverse()) {
        const topic = name.endsWith('publish') ? await newTopic() : filled;
        // The bus's consume is measured once per round, though it is in two pairs.
        if (runs[name].length > round) continue;
        runs[name].push(await sides[name](topic, round));
      }
    }
  }
} finally {
  await bus.close();
  for await (const name of jsm.streams.names()) if (name.startsWith(streamPrefix)) await jsm.streams.delete(name);
  await nc.close();
}

console.log(`${count} messages per run, ${rounds} rounds, publish batches of ${batch}, pulls of ${fetchMax}`);
printTransportReport(runs, pairs);
