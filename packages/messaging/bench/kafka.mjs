// Both Kafka adapters against their raw clients, and raw kafkajs against raw @platformatic/kafka, on
// the built package (dist/) and a real broker (KAFKA_BROKERS, default 127.0.0.1:9092), in one process
// and one run. Each pair does the same work with the same data:
//   publish: BATCH messages at a time, acks -1, the same payload, key and headers. The bus builds its
//            envelope (a UUID, correlation id, content type; no traceparent without an OpenTelemetry
//            SDK) and serializes strictly; the raw client sends JSON.stringify of the payload with the
//            same three headers, its message id from crypto.randomUUID(). Producers are connected
//            before they are timed.
//   consume: a topic of 3 partitions prefilled by the bus, read by a new group from the earliest offset
//            until every offset is committed, timed from before the consumer connects to the last
//            commit. Every side fetches at most FETCH_MAX_BYTES per partition, parses each message as
//            JSON and commits only what it has handled: the adapters (handler + commit) with their
//            own commit cadence; raw kafkajs with its commit after each batch; raw @platformatic/kafka
//            (autocommit off) what its `data` listener handled, coalesced over 20 ms as the adapters do.
// Rounds alternate which side of a pair goes first; each side's runs are all printed, and the ratios
// compare each side's best run (others on a shared machine only ever add time) and the medians.
//   pnpm --filter @infra/messaging build && node bench/kafka.mjs
//   BENCH_COUNT messages per run (default 200 000: at 30 000 the group join was most of a consume run),
//   BENCH_ROUNDS (default 5), BENCH_BATCH (default 500),
//   BENCH_FETCH_MAX_BYTES (default 1 MiB, the adapters' default `fetchMaxBytes`),
//   BENCH_PAIRS (comma-separated first sides of the pairs to run, e.g. "platformatic-kafka adapter consume";
//   default all)
import { randomUUID } from 'node:crypto';
import { Consumer, Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { MessageBus } from '../dist/index.js';
import { eventPayload, measureMessages, printTransportReport } from './stats.mjs';
import { createKafkaAdapter } from '../dist/kafka/index.js';
import { createPlatformaticKafkaAdapter } from '../dist/platformatic-kafka/index.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const count = Number(process.env.BENCH_COUNT ?? 200_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const batch = Number(process.env.BENCH_BATCH ?? 500);
const fetchMaxBytes = Number(process.env.BENCH_FETCH_MAX_BYTES ?? 1024 * 1024);
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

const committedAll = async (group, topic) => {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return entry.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) >= count;
};
const until = async (check) => {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
};
const measure = (body) => measureMessages(count, body);
/** The headers the bus writes (with no OpenTelemetry SDK), as a raw user would set them. */
const rawHeaders = () => {
  const id = randomUUID();
  return { 'message-id': id, 'correlation-id': id, 'content-type': 'application/json' };
};

// Publishers, connected once, as the bus's producers are.
const kafkajsProducer = kafka.producer();
await kafkajsProducer.connect();
const platformaticProducer = new Producer({ clientId: run, bootstrapBrokers: brokers });
await platformaticProducer.listApis();
const kafkaBus = new MessageBus({ adapter: await createKafkaAdapter({ brokers, clientId: run }), lagIntervalMs: 0 });
const platformaticBus = new MessageBus({
  adapter: await createPlatformaticKafkaAdapter({ brokers, clientId: run }),
  lagIntervalMs: 0,
});

const kafkajsPublish = (topic) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        messages.push({
          key: `k${j % 64}`,
          value: JSON.stringify(eventPayload(j)),
          headers: rawHeaders(),
          timestamp: String(Date.now()),
        });
      }
      await kafkajsProducer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
    }
  });

const platformaticPublish = (topic) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const headers = new Map();
        for (const [name, value] of Object.entries(rawHeaders())) headers.set(Buffer.from(name), Buffer.from(value));
        messages.push({
          topic,
          key: Buffer.from(`k${j % 64}`),
          value: Buffer.from(JSON.stringify(eventPayload(j))),
          headers,
          timestamp: BigInt(Date.now()),
        });
      }
      await platformaticProducer.send({ messages, acks: -1 });
    }
  });

const busPublish = (bus) => (topic) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const requests = [];
      for (let j = i; j < Math.min(count, i + batch); j++)
        requests.push({ topic, payload: eventPayload(j), key: `k${j % 64}` });
      await bus.publishBatch(requests);
    }
  });

const kafkajsConsume = (topic, round) =>
  measure(async () => {
    const group = `${topic}-kafkajs-${round}`;
    const consumer = kafka.consumer({
      groupId: group,
      maxWaitTimeInMs: 1000,
      maxBytesPerPartition: fetchMaxBytes,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch: received, resolveOffset }) => {
        for (const message of received.messages) {
          JSON.parse(message.value.toString());
          seen += 1;
          resolveOffset(message.offset);
        }
      },
    });
    await until(() => seen >= count && committedAll(group, topic));
    await consumer.disconnect();
  });

const platformaticConsume = (topic, round) =>
  measure(async () => {
    const group = `${topic}-platformatic-${round}`;
    const consumer = new Consumer({
      clientId: run,
      groupId: group,
      bootstrapBrokers: brokers,
      maxWaitTime: 1000,
      maxBytesPerPartition: fetchMaxBytes,
      autocommit: false,
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const handled = new Map();
    let timer;
    const commit = () => {
      timer = undefined;
      const offsets = [...handled.values()];
      handled.clear();
      consumer.commit({ offsets }).catch(() => undefined);
    };
    let seen = 0;
    stream.on('data', (message) => {
      JSON.parse(message.value.toString());
      seen += 1;
      const { topic: name, partition, offset } = message;
      handled.set(partition, { topic: name, partition, offset: offset + 1n, leaderEpoch: -1 });
      timer ??= setTimeout(commit, 20);
    });
    await until(() => seen >= count && committedAll(group, topic));
    clearTimeout(timer);
    await consumer.close(true);
  });

const busConsume = (create) => (topic, round) =>
  measure(async () => {
    const adapter = await create({ brokers, clientId: run, fetchMaxBytes });
    const group = `${topic}-bus-${adapter.name}-${round}`;
    const bus = new MessageBus({ adapter, group, lagIntervalMs: 0 });
    let seen = 0;
    await bus
      .subscribe(topic, () => void (seen += 1), { startFrom: 'earliest', concurrency: 64, maxInFlight: 2000 })
      .ready();
    await until(() => seen >= count && committedAll(group, topic));
    await bus.close();
  });

const sides = {
  'kafka adapter publish': busPublish(kafkaBus),
  'kafkajs publish': kafkajsPublish,
  'platformatic-kafka adapter publish': busPublish(platformaticBus),
  '@platformatic/kafka publish': platformaticPublish,
  'kafka adapter consume': busConsume(createKafkaAdapter),
  'kafkajs consume': kafkajsConsume,
  'platformatic-kafka adapter consume': busConsume(createPlatformaticKafkaAdapter),
  '@platformatic/kafka consume': platformaticConsume,
};
const allPairs = [
  ['kafka adapter publish', 'kafkajs publish'],
  ['platformatic-kafka adapter publish', '@platformatic/kafka publish'],
  ['kafka adapter consume', 'kafkajs consume'],
  ['platformatic-kafka adapter consume', '@platformatic/kafka consume'],
];
// BENCH_PAIRS=platformatic-kafka adapter consume,… runs only the pairs whose first side is named.
const named = process.env.BENCH_PAIRS?.split(',');
for (const name of named ?? [])
  if (!allPairs.some(([ours]) => ours === name))
    throw new Error(`BENCH_PAIRS: no pair "${name}" (${allPairs.map(([ours]) => ours).join(', ')})`);
const pairs = named ? allPairs.filter(([ours]) => named.includes(ours)) : allPairs;
const chosen = new Set(pairs.flat());

// Warm-up: connections, metadata, JIT. Every side runs once untimed, consumers on the prefilled
// topic with a group of their own, so that no side's first timed run pays for compiling its code.
for (const name of [...chosen].filter((side) => side.endsWith('publish'))) await sides[name](await newTopic());
const filled = await newTopic();
await busPublish(kafkaBus)(filled);
for (const name of [...chosen].filter((side) => side.endsWith('consume'))) await sides[name](filled, 'warm-up');

const runs = Object.fromEntries([...chosen].map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const pair of pairs) {
    for (const name of round % 2 === 0 ? pair : [...pair].reverse()) {
      const topic = name.endsWith('publish') ? await newTopic() : filled;
      runs[name].push(await sides[name](topic, round));
    }
  }
}

await kafkaBus.close();
await platformaticBus.close();
await kafkajsProducer.disconnect();
await platformaticProducer.close();
await admin
  .deleteTopics({ topics: Array.from({ length: topicCount }, (_, i) => `${run}.${i + 1}`) })
  .catch(() => undefined);
await admin.disconnect();

console.log(
  `${count} messages per run, ${rounds} rounds, batches of ${batch}, fetch max ${fetchMaxBytes} bytes/partition`,
);
printTransportReport(runs, [
  ...pairs,
  ...[
    ['kafkajs publish', '@platformatic/kafka publish'],
    ['kafkajs consume', '@platformatic/kafka consume'],
  ].filter((pair) => pair.every((name) => chosen.has(name))),
]);
