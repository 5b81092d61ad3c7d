// The RabbitMQ adapter through a MessageBus against raw amqplib, on the built package (dist/) and a real
// server (RABBITMQ_URL, default amqp://guest:guest@127.0.0.1:5672), in one process and one run. Each pair
// does the same work with the same data, on quorum queues:
//   publish: BATCH messages at a time on a confirm channel, each batch waited for until RabbitMQ
//            confirmed all of it, persistent, to a topic exchange with one queue bound. The bus builds its
//            envelope (a UUID, correlation id, content type; no traceparent without an OpenTelemetry
//            SDK) and serializes strictly; the raw side sends JSON.stringify of the payload with the same
//            headers and properties.
//   consume: a queue prefilled with COUNT messages, consumed with the same prefetch (PREFETCH) and one
//            ack per message; each side parses each message as JSON. Timed from before the consumer
//            starts until every message is acknowledged and the consumer's channel is closed (the bus:
//            handler, ack, `bus.close()`).
// Rounds alternate which side of a pair goes first; each side's runs are all printed, and the ratios
// compare each side's best run (others on a shared machine only ever add time) and the medians.
//   pnpm --filter @infra/messaging build && node bench/rabbitmq.mjs
//   BENCH_COUNT messages per run (default 20 000), BENCH_ROUNDS (default 3), BENCH_BATCH (default 500),
//   BENCH_PREFETCH (default 500)
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { MessageBus } from '../dist/index.js';
import { eventPayload, measureMessages, printTransportReport } from './stats.mjs';
import { createRabbitMqAdapter } from '../dist/rabbitmq/index.js';

const url = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const count = Number(process.env.BENCH_COUNT ?? 20_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const batch = Number(process.env.BENCH_BATCH ?? 500);
const prefetch = Number(process.env.BENCH_PREFETCH ?? 500);
const exchangePrefix = `bench-rabbitmq-${process.pid}-${Date.now()}.`;
const quorum = { durable: true, arguments: { 'x-queue-type': 'quorum' } };

const admin = await connect(url);
const adminChannel = await admin.createChannel();
const exchanges = new Set();
const queues = new Set();
let topicCount = 0;
/** A new topic: its exchange, and queues bound to it under the given names. */
const newTopic = async (...queueNames) => {
  const topic = `t${++topicCount}`;
  const exchange = `${exchangePrefix}${topic}`;
  await adminChannel.assertExchange(exchange, 'direct', { durable: true });
  exchanges.add(exchange);
  for (const queue of queueNames.map((name) => `${exchangePrefix}${topic}@${name}`)) {
    await adminChannel.assertQueue(queue, quorum);
    await adminChannel.bindQueue(queue, exchange, '');
    queues.add(queue);
  }
  return topic;
};

const until = async (check) => {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
};
const measure = (body) => measureMessages(count, body);

const publisher = new MessageBus({
  adapter: await createRabbitMqAdapter({ url, exchangePrefix, prefetch }),
  lagIntervalMs: 0,
});
const raw = await connect(url);
const confirmChannel = await raw.createConfirmChannel();

const busPublish = async (topic) =>
  measure(async () => {
    for (let i = 0; i < count; i += batch) {
      const requests = [];
      for (let j = i; j < Math.min(count, i + batch); j++)
        requests.push({ topic, payload: eventPayload(j), key: `k${j % 64}` });
      await publisher.publishBatch(requests);
    }
  });

const rawPublish = async (topic) =>
  measure(async () => {
    const exchange = `${exchangePrefix}${topic}`;
    for (let i = 0; i < count; i += batch) {
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const id = randomUUID();
        const now = Date.now();
        confirmChannel.publish(exchange, '', Buffer.from(JSON.stringify(eventPayload(j))), {
          persistent: true,
          messageId: id,
          timestamp: Math.floor(now / 1000),
          headers: {
            'correlation-id': id,
            'content-type': 'application/json',
            'x-infra-timestamp': String(now),
            'x-infra-key': `k${j % 64}`,
          },
        });
      }
      await confirmChannel.waitForConfirms();
    }
  });

const busConsume = async (topic) =>
  measure(async () => {
    const bus = new MessageBus({
      adapter: await createRabbitMqAdapter({ url, exchangePrefix, prefetch }),
      group: 'bus',
      lagIntervalMs: 0,
    });
    let seen = 0;
    await bus.subscribe(topic, () => void (seen += 1), { concurrency: 64, maxInFlight: prefetch }).ready();
    await until(() => seen >= count);
    await bus.close();
  });

const rawConsume = async (topic) =>
  measure(async () => {
    const connection = await connect(url);
    const channel = await connection.createChannel();
    await channel.prefetch(prefetch);
    let seen = 0;
    await channel.consume(`${exchangePrefix}${topic}@raw`, (message) => {
      JSON.parse(message.content.toString());
      seen += 1;
      channel.ack(message);
    });
    await until(() => seen >= count);
    await channel.close();
    await connection.close();
  });

// Warm-up: connections, declarations, JIT.
await busPublish(await newTopic('sink'));
await rawPublish(await newTopic('sink'));

const runs = { 'adapter publish': [], 'amqplib publish': [], 'adapter consume': [], 'amqplib consume': [] };
for (let round = 0; round < rounds; round++) {
  // Publish: each side into a topic of its own, with one queue bound.
  for (const side of round % 2 === 0 ? ['adapter', 'amqplib'] : ['amqplib', 'adapter']) {
    const topic = await newTopic('sink');
    runs[`${side} publish`].push(await (side === 'adapter' ? busPublish : rawPublish)(topic));
    await adminChannel.purgeQueue(`${exchangePrefix}${topic}@sink`);
  }
  // Consume: one topic, one queue per side, filled by the same publishes.
  const filled = await newTopic('bus', 'raw');
  await busPublish(filled);
  for (const side of round % 2 === 0 ? ['adapter', 'amqplib'] : ['amqplib', 'adapter'])
    runs[`${side} consume`].push(await (side === 'adapter' ? busConsume : rawConsume)(filled));
}

await publisher.close();
await confirmChannel.close();
await raw.close();
for (const queue of queues) await adminChannel.deleteQueue(queue);
for (const exchange of exchanges) await adminChannel.deleteExchange(exchange);
await admin.close();

console.log(`${count} messages per run, ${rounds} rounds, batches of ${batch}, prefetch ${prefetch}, quorum queues`);
printTransportReport(runs, [
  ['adapter publish', 'amqplib publish'],
  ['adapter consume', 'amqplib consume'],
]);
