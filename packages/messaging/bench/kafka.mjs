// Both Kafka adapters against their raw clients, and raw kafkajs against raw @platformatic/kafka, on
// the built package (dist/) and a real broker (KAFKA_BROKERS, default 127.0.0.1:9092), in one process
// and one run:
//   publish: the bus's publishBatch of BATCH messages vs the client's send of the same messages;
//   consume: a prefilled topic of 3 partitions read by a new group until every offset is committed,
//            the bus (handler + commit) vs the raw client parsing each message and committing.
// node bench/kafka.mjs   (BENCH_COUNT messages, default 50 000; BENCH_ROUNDS, default 3; run `pnpm build` first)
import { Consumer, Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { MessageBus } from '../dist/index.js';
import { createKafkaAdapter } from '../dist/kafka/index.js';
import { createPlatformaticKafkaAdapter } from '../dist/platformatic-kafka/index.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const count = Number(process.env.BENCH_COUNT ?? 50_000);
const batch = 500;
const run = `bench-kafka-${process.pid}-${Date.now()}`;
const kafka = new Kafka({ clientId: run, brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
let topicCount = 0;
const newTopic = async () => {
  const topic = `${run}.${++topicCount}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  return topic;
};
const payload = (i) => ({ userId: `u${i % 100}`, challengeId: i, score: i % 10, at: '2026-01-01T00:00:00.000Z' });
const rate = (started) => count / ((performance.now() - started) / 1000);
const committedAll = async (group, topic) => {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return entry.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) >= count;
};
const until = async (check) => {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
};

// The headers the bus writes: the envelope travels in them.
const envelopeHeaders = (j) => ({
  'message-id': `m-${j}`,
  'correlation-id': `m-${j}`,
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  'content-type': 'application/json',
});

async function platformaticPublish(topic) {
  const producer = new Producer({ clientId: run, bootstrapBrokers: brokers });
  const started = performance.now();
  for (let i = 0; i < count; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const headers = new Map();
      for (const [name, value] of Object.entries(envelopeHeaders(j)))
        headers.set(Buffer.from(name), Buffer.from(value));
      messages.push({
        topic,
        key: Buffer.from(`k${j % 64}`),
        value: Buffer.from(JSON.stringify(payload(j))),
        headers,
        timestamp: BigInt(Date.now()),
      });
    }
    await producer.send({ messages, acks: -1 });
  }
  const result = rate(started);
  await producer.close();
  return result;
}

async function platformaticConsume(topic, round) {
  const group = `${topic}-pk-${round}`;
  const started = performance.now();
  const consumer = new Consumer({ clientId: run, groupId: group, bootstrapBrokers: brokers, maxWaitTime: 1000 });
  // The client's own batching of commits: every 100 ms, what was read.
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: 100 });
  let seen = 0;
  stream.on('data', (message) => {
    JSON.parse(message.value.toString());
    seen += 1;
  });
  await until(() => seen >= count && committedAll(group, topic));
  const result = rate(started);
  await consumer.close(true);
  return result;
}

async function rawPublish(topic) {
  const producer = kafka.producer();
  await producer.connect();
  const started = performance.now();
  for (let i = 0; i < count; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      messages.push({
        key: `k${j % 64}`,
        value: JSON.stringify(payload(j)),
        headers: envelopeHeaders(j),
        timestamp: String(Date.now()),
      });
    }
    await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
  }
  const result = rate(started);
  await producer.disconnect();
  return result;
}

async function busPublish(bus, topic) {
  const started = performance.now();
  for (let i = 0; i < count; i += batch) {
    const requests = [];
    for (let j = i; j < Math.min(count, i + batch); j++)
      requests.push({ topic, payload: payload(j), key: `k${j % 64}` });
    await bus.publishBatch(requests);
  }
  return rate(started);
}

async function rawConsume(topic, round) {
  const group = `${topic}-raw-${round}`;
  // Both sides are timed from before they connect and join, to the last commit.
  const started = performance.now();
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch: received, resolveOffset, commitOffsetsIfNecessary }) => {
      for (const message of received.messages) {
        JSON.parse(message.value.toString());
        seen += 1;
        resolveOffset(message.offset);
      }
      await commitOffsetsIfNecessary();
    },
  });
  await until(() => seen >= count && committedAll(group, topic));
  const result = rate(started);
  await consumer.disconnect();
  return result;
}

async function busConsume(topic, round, create) {
  const started = performance.now();
  const adapter = await create({ brokers, clientId: run });
  const group = `${topic}-bus-${adapter.name}-${round}`;
  const bus = new MessageBus({ adapter, group, lagIntervalMs: 0 });
  let seen = 0;
  await bus
    .subscribe(topic, () => void (seen += 1), { startFrom: 'earliest', concurrency: 64, maxInFlight: 2000 })
    .ready();
  await until(() => seen >= count && committedAll(group, topic));
  const result = rate(started);
  await bus.close();
  return result;
}

const publisher = new MessageBus({ adapter: await createKafkaAdapter({ brokers, clientId: run }), lagIntervalMs: 0 });
const pkPublisher = new MessageBus({
  adapter: await createPlatformaticKafkaAdapter({ brokers, clientId: run }),
  lagIntervalMs: 0,
});
// Warm-up: connections, metadata, JIT.
await rawPublish(await newTopic());
await platformaticPublish(await newTopic());
await busPublish(publisher, await newTopic());
await busPublish(pkPublisher, await newTopic());

// The machine is shared: rounds alternate between the sides and each side keeps its best round.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const best = { rawOut: 0, busOut: 0, rawIn: 0, busIn: 0, pkOut: 0, pkBusOut: 0, pkIn: 0, pkBusIn: 0 };
const filled = await newTopic();
await rawPublish(filled);
for (let round = 0; round < rounds; round++) {
  best.rawOut = Math.max(best.rawOut, await rawPublish(await newTopic()));
  best.busOut = Math.max(best.busOut, await busPublish(publisher, await newTopic()));
  best.pkOut = Math.max(best.pkOut, await platformaticPublish(await newTopic()));
  best.pkBusOut = Math.max(best.pkBusOut, await busPublish(pkPublisher, await newTopic()));
  best.rawIn = Math.max(best.rawIn, await rawConsume(filled, round));
  best.busIn = Math.max(best.busIn, await busConsume(filled, round, createKafkaAdapter));
  best.pkIn = Math.max(best.pkIn, await platformaticConsume(filled, round));
  best.pkBusIn = Math.max(best.pkBusIn, await busConsume(filled, round, createPlatformaticKafkaAdapter));
}
const publishing = `publish ${count} (batches of ${batch})`;
const consuming = `consume + commit ${count}`;
const rows = [
  [`${publishing}: kafka adapter / kafkajs`, best.busOut, best.rawOut],
  [`${consuming}: kafka adapter / kafkajs`, best.busIn, best.rawIn],
  [`${publishing}: platformatic-kafka adapter / @platformatic/kafka`, best.pkBusOut, best.pkOut],
  [`${consuming}: platformatic-kafka adapter / @platformatic/kafka`, best.pkBusIn, best.pkIn],
  [`${publishing}: kafkajs / @platformatic/kafka`, best.rawOut, best.pkOut],
  [`${consuming}: kafkajs / @platformatic/kafka`, best.rawIn, best.pkIn],
].map(([scenario, ours, peer]) => ({
  scenario,
  'msg/s': Math.round(ours),
  'vs msg/s': Math.round(peer),
  ratio: (ours / peer).toFixed(2),
}));

await publisher.close();
await pkPublisher.close();
await admin
  .deleteTopics({ topics: Array.from({ length: topicCount }, (_, i) => `${run}.${i + 1}`) })
  .catch(() => undefined);
await admin.disconnect();
console.table(rows);
