import { eventually, kafkaBrokers, messageBusContract, uniqueName } from '@infra/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageBus } from '../message-bus.js';
import type { ReceivedMessage } from '../subscription.js';
import { KafkaAdapter, createKafkaAdapter } from './kafka-adapter.js';
import type {
  EachBatchPayloadLike,
  KafkaAdminLike,
  KafkaClientLike,
  KafkaConsumerLike,
  KafkaMessageLike,
  KafkaProducerLike,
} from './kafka-client.js';

const brokers = kafkaBrokers('@infra/messaging kafkajs contract suite');

describe.skipIf(!brokers)('kafka broker', () => {
  const prefix = uniqueName('messaging_kafka').replaceAll('_', '-');
  messageBusContract({
    name: 'kafka',
    create: async () => {
      const adapter = await createKafkaAdapter({ brokers, clientId: prefix, sessionTimeoutMs: 6000, heartbeatMs: 500 });
      const bus = new MessageBus({ adapter, lagIntervalMs: 0, group: prefix });
      // Groups live on the broker, shared with every other run: the suite's group names get this run's prefix.
      const subscribe = bus.subscribe.bind(bus);
      bus.subscribe = (topic, handler, options) =>
        subscribe(topic, handler, {
          ...options,
          ...(options?.group ? { group: `${prefix}-${options.group}` } : {}),
        });
      return bus;
    },
    capabilities: { orderingPerKey: true, persistence: true, consumerGroups: true, replay: true },
    timeoutMs: 60_000,
  });
});

/** Records what the adapter asks of kafkajs, and lets a test play the broker's part in eachBatch. */
class FakeKafka implements KafkaClientLike {
  producerConfigs: unknown[] = [];
  sent: Parameters<KafkaProducerLike['sendBatch']>[0][] = [];
  consumers: FakeConsumer[] = [];
  offsets = {
    high: [{ partition: 0, offset: '10', high: '10', low: '0' }],
    committed: [{ partition: 0, offset: '4' }],
  };

  /** Topics whose sends fail, as a broker refusing them would. */
  refused = new Set<string>();

  producer(config?: unknown): KafkaProducerLike {
    this.producerConfigs.push(config);
    return {
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      sendBatch: (batch) => {
        const refused = batch.topicMessages.find((entry) => this.refused.has(entry.topic));
        if (refused) return Promise.reject(new Error(`topic ${refused.topic} refused`));
        this.sent.push(batch);
        return Promise.resolve([]);
      },
    };
  }

  consumer(config: { groupId: string }): KafkaConsumerLike {
    const consumer = new FakeConsumer(config.groupId);
    this.consumers.push(consumer);
    return consumer;
  }

  admin(): KafkaAdminLike {
    return {
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      describeCluster: () => Promise.resolve({ brokers: [] }),
      fetchTopicOffsets: () => Promise.resolve(this.offsets.high),
      fetchOffsets: ({ topics }) =>
        Promise.resolve(topics.map((topic) => ({ topic, partitions: this.offsets.committed }))),
    };
  }
}

class FakeConsumer implements KafkaConsumerLike {
  subscribed: { topics: string[]; fromBeginning?: boolean } | undefined;
  subscriptions: { topics: string[]; fromBeginning?: boolean }[] = [];
  listeners = new Map<string, (event: { payload?: unknown }) => void>();
  heartbeatError: Error | undefined;
  runConfig: Parameters<KafkaConsumerLike['run']>[0] | undefined;
  disconnected = false;
  resolved: string[] = [];
  commits = 0;
  committed: { topic: string; partition: number; offset: string }[] = [];
  constructor(readonly groupId: string) {}
  connect(): Promise<void> {
    return Promise.resolve();
  }
  disconnect(): Promise<void> {
    this.disconnected = true;
    return Promise.resolve();
  }
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void> {
    this.subscribed = subscription;
    this.subscriptions.push(subscription);
    return Promise.resolve();
  }
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    this.committed.push(...offsets);
    return Promise.resolve();
  }
  /** The highest offset committed for a partition, as a number. */
  committedAt(topic: string, partition = 0): number {
    const offsets = this.committed
      .filter((c) => c.topic === topic && c.partition === partition)
      .map((c) => Number(c.offset));
    return offsets.length === 0 ? -1 : Math.max(...offsets);
  }
  on(event: string, listener: (event: { payload?: unknown }) => void): void {
    this.listeners.set(event, listener);
  }
  run(config: Parameters<KafkaConsumerLike['run']>[0]): Promise<void> {
    this.runConfig = config;
    // The broker's part: the member joins its group.
    setImmediate(() => this.listeners.get('consumer.group_join')?.({ payload: { memberAssignment: {} } }));
    return Promise.resolve();
  }
  /** Delivers a batch as kafkajs would; resolves when eachBatch returns. */
  deliver(topic: string, messages: KafkaMessageLike[], partition = 0): Promise<void> {
    const payload: EachBatchPayloadLike = {
      batch: { topic, partition, messages },
      resolveOffset: (offset) => void this.resolved.push(offset),
      heartbeat: () => (this.heartbeatError ? Promise.reject(this.heartbeatError) : Promise.resolve()),
      commitOffsetsIfNecessary: () => {
        this.commits += 1;
        return Promise.resolve();
      },
      isRunning: () => !this.disconnected,
      isStale: () => false,
    };
    return (this.runConfig as NonNullable<FakeConsumer['runConfig']>).eachBatch(payload);
  }
}

const record = (
  offset: string,
  payload: unknown,
  headers: Record<string, string> = {},
  key: string | null = null,
): KafkaMessageLike => ({
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(JSON.stringify(payload)),
  headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)])),
  timestamp: '1700000000000',
  offset,
});

describe('kafka adapter at the kafkajs boundary', () => {
  const buses: MessageBus[] = [];
  const make = (options: Partial<ConstructorParameters<typeof KafkaAdapter>[0]> = {}) => {
    const kafka = new FakeKafka();
    const adapter = new KafkaAdapter({ kafka, ...options });
    const bus = new MessageBus({
      adapter,
      lagIntervalMs: 0,
      retry: { maxAttempts: 2, initialDelayMs: 1 },
      healthWarnBacklog: 1_000_000,
    });
    buses.push(bus);
    return { kafka, adapter, bus };
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close({ timeoutMs: 20 })));
  });

  it('sends the envelope as key, value, headers and timestamp, one sendBatch per publish', async () => {
    const { kafka, bus } = make();
    const [first] = await bus.publishBatch([
      {
        topic: 'challenge.completed',
        payload: { score: 1 },
        key: 'user-1',
        headers: { source: 'api' },
        timestamp: 1_700_000_000_000,
      },
      { topic: 'audit', payload: 'x' },
    ]);
    expect(kafka.producerConfigs).toEqual([{}]);
    expect(kafka.sent).toHaveLength(1);
    const [batch] = kafka.sent;
    expect(batch?.acks).toBe(-1);
    expect(batch?.topicMessages.map((entry) => entry.topic)).toEqual(['challenge.completed', 'audit']);
    const message = batch?.topicMessages[0]?.messages[0];
    expect(message).toMatchObject({ key: 'user-1', value: '{"score":1}', timestamp: '1700000000000' });
    expect(message?.headers).toMatchObject({
      'message-id': first?.id,
      source: 'api',
      'content-type': 'application/json',
      'correlation-id': expect.any(String),
    });
  });

  it('asks for an idempotent producer when configured, and refuses one without acks -1', async () => {
    const { kafka, bus } = make({ idempotent: true });
    await bus.publish('t', 1);
    expect(kafka.producerConfigs).toEqual([{ idempotent: true, maxInFlightRequests: 1 }]);
    expect(() => new KafkaAdapter({ kafka, idempotent: true, acks: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'acks' }),
    );
    await expect(bus.publish('bad:topic', 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', option: 'topic' });
  });

  it('consumes with eachBatch, resolving offsets only after each message is done', async () => {
    const { kafka, bus } = make();
    const handled: { payload: unknown; id: string; key: string | null }[] = [];
    await bus
      .subscribe('orders', (payload, message) => void handled.push({ payload, id: message.id, key: message.key }), {
        group: 'billing',
        startFrom: 'earliest',
      })
      .ready();
    const consumer = kafka.consumers[0] as FakeConsumer;
    expect(consumer.groupId).toBe('billing');
    expect(consumer.subscribed).toEqual({ topics: ['orders'], fromBeginning: true });
    expect(consumer.runConfig).toMatchObject({
      eachBatchAutoResolve: false,
      autoCommit: false,
      partitionsConsumedConcurrently: 8,
    });
    await consumer.deliver('orders', [record('5', { n: 1 }, { 'message-id': 'm-1' }, 'k'), record('6', { n: 2 })]);
    expect(handled).toEqual([
      { payload: { n: 1 }, id: 'm-1', key: 'k' },
      { payload: { n: 2 }, id: 'orders-0-6', key: null },
    ]);
    // The fetch position moves past the whole batch once it is handed to the bus.
    expect(consumer.resolved.at(-1)).toBe('6');
    await eventually(() => consumer.committedAt('orders') === 7);
  });

  it("takes records in @platformatic/kafka's shape: bigint offsets and timestamps, a Map of headers, no key", async () => {
    const { kafka, bus } = make();
    const handled: { payload: unknown; id: string; key: string | null; headers: object; timestamp: number }[] = [];
    const handler = (payload: unknown, message: ReceivedMessage): void =>
      void handled.push({
        payload,
        id: message.id,
        key: message.key,
        headers: message.headers,
        timestamp: message.timestamp,
      });
    // Two subscriptions of one topic in one group: keyless records are spread over both.
    await bus.subscribe('orders', handler, { group: 'billing', startFrom: 'earliest' }).ready();
    await bus.subscribe('orders', handler, { group: 'billing', startFrom: 'earliest' }).ready();
    const consumer = kafka.consumers.at(-1) as FakeConsumer;
    const headers = new Map([
      [Buffer.from('message-id'), Buffer.from('m-7')],
      [Buffer.from('source'), Buffer.from('api')],
    ]);
    await consumer.deliver('orders', [
      { key: undefined, value: Buffer.from('{"n":7}'), headers, timestamp: 1_700_000_000_000n, offset: 7n },
      { key: undefined, value: Buffer.from('{"n":8}'), headers: new Map(), timestamp: 1_700_000_000_001n, offset: 8n },
    ]);
    await eventually(() => handled.length === 2);
    expect(handled.sort((a, b) => a.timestamp - b.timestamp)).toEqual([
      { payload: { n: 7 }, id: 'm-7', key: null, headers: { source: 'api' }, timestamp: 1_700_000_000_000 },
      { payload: { n: 8 }, id: 'orders-0-8', key: null, headers: {}, timestamp: 1_700_000_000_001 },
    ]);
    expect(consumer.resolved.at(-1)).toBe('8');
    await eventually(() => consumer.committedAt('orders') === 9);
  });

  it('dead-letters a poison message to <topic>.dlq and moves past it', async () => {
    const { kafka, bus } = make();
    await bus
      .subscribe('orders', (payload: { poison?: boolean }) => {
        if (payload.poison) throw new Error('poison');
      })
      .ready();
    const consumer = kafka.consumers[0] as FakeConsumer;
    await consumer.deliver('orders', [
      record('1', { poison: true }, { 'message-id': 'p-1' }),
      record('2', { ok: true }),
    ]);
    await eventually(() => consumer.committedAt('orders') === 3);
    const dead = kafka.sent.find((batch) => batch.topicMessages[0]?.topic === 'orders.dlq')?.topicMessages[0]
      ?.messages[0];
    expect(dead?.headers).toMatchObject({
      'message-id': 'p-1',
      'x-error': 'poison',
      'x-attempts': '2',
      'x-original-topic': 'orders',
    });
  });

  it('does not resolve the offset of a message unfinished at close, so that the group gets it again', async () => {
    const { kafka, bus } = make();
    let release!: () => void;
    const hang = new Promise<void>((resolve) => (release = resolve));
    const subscription = bus.subscribe('orders', async (payload: { n: number }) => {
      if (payload.n === 2) await hang;
    });
    await subscription.ready();
    const consumer = kafka.consumers[0] as FakeConsumer;
    const batch = consumer.deliver('orders', [record('7', { n: 1 }), record('8', { n: 2 }), record('9', { n: 3 })]);
    await batch;
    await eventually(() => consumer.committedAt('orders') === 8);
    await subscription.close({ timeoutMs: 20 });
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumer.committedAt('orders')).toBe(8);
    expect(consumer.disconnected).toBe(true);
  });

  it('runs one consumer per group for all its topics, and restarts it when a topic joins later', async () => {
    const { kafka, bus } = make();
    const seen: string[] = [];
    await Promise.all(
      bus.consumer
        .subscribeAll({ a: (_p, m) => void seen.push(m.topic), b: (_p, m) => void seen.push(m.topic) })
        .map((subscription) => subscription.ready()),
    );
    expect(kafka.consumers).toHaveLength(1);
    const first = kafka.consumers[0] as FakeConsumer;
    expect(first.subscriptions.flatMap((entry) => entry.topics).sort()).toEqual(['a', 'b']);
    await first.deliver('b', [record('0', 1)]);
    await first.deliver('a', [record('0', 2)]);
    expect(seen).toEqual(['b', 'a']);

    await bus.subscribe('c', () => undefined).ready();
    expect(kafka.consumers).toHaveLength(2);
    expect(first.disconnected).toBe(true);
    const second = kafka.consumers[1] as FakeConsumer;
    expect(second.subscriptions.flatMap((entry) => entry.topics).sort()).toEqual(['a', 'b', 'c']);
  });

  it('after a rebalance, drops what the bus has not fetched and commits nothing more for the old generation', async () => {
    const { kafka, bus } = make();
    let release!: () => void;
    const hang = new Promise<void>((resolve) => (release = resolve));
    const handled: number[] = [];
    await bus
      .subscribe(
        'orders',
        async (payload: { n: number }) => {
          handled.push(payload.n);
          if (payload.n === 2) await hang;
        },
        { concurrency: 1, maxInFlight: 1 },
      )
      .ready();
    const consumer = kafka.consumers[0] as FakeConsumer;
    await consumer.deliver('orders', [record('1', { n: 1 }), record('2', { n: 2 }), record('3', { n: 3 })]);
    await eventually(() => handled.includes(2) && consumer.committedAt('orders') === 2);
    consumer.listeners.get('consumer.rebalancing')?.({});
    release();
    // Message 3 was never handed out: it belongs to the partition's next owner; 2 finished too late.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(handled).toEqual([1, 2]);
    expect(consumer.committedAt('orders')).toBe(2);
  });

  it('retries a refused dead letter with an error event, reports the stalled partition, then moves on', async () => {
    const { kafka, bus } = make({ stallMs: 50 });
    kafka.refused.add('orders.dlq');
    const errors: string[] = [];
    const handled: number[] = [];
    bus.on('error', (event) => void errors.push(event.operation));
    await bus
      .subscribe(
        'orders',
        (payload: { n: number; poison?: boolean }) => {
          if (payload.poison) throw new Error('poison');
          handled.push(payload.n);
        },
        { concurrency: 4 },
      )
      .ready();
    const consumer = kafka.consumers[0] as FakeConsumer;
    consumer.listeners.get('consumer.group_join')?.({ payload: { memberAssignment: { orders: [2] } } });
    const batch = consumer.deliver('orders', [record('4', { n: 1, poison: true })], 2);
    await eventually(() => errors.filter((operation) => operation === 'deadLetter').length >= 2);
    await batch;
    expect(consumer.committedAt('orders', 2)).toBe(-1);
    // Another partition keeps flowing meanwhile.
    await consumer.deliver('orders', [record('9', { n: 2 })], 1);
    await eventually(() => consumer.committedAt('orders', 1) === 10);
    expect(handled).toEqual([2]);
    await eventually(async () => (await bus.healthCheck()).status === 'warn');
    expect((await bus.healthCheck()).output).toMatch(/partition orders\[2\] stalled on offset 4/);
    kafka.refused.clear();
    await eventually(() => consumer.committedAt('orders', 2) === 5, 20_000);
    expect(kafka.sent.some((sent) => sent.topicMessages[0]?.topic === 'orders.dlq')).toBe(true);
    expect((await bus.healthCheck()).status).toBe('pass');
  });

  it('reports a consumer that is out of its group for longer than stallMs', async () => {
    const { kafka, bus } = make({ stallMs: 20 });
    await bus.subscribe('orders', () => undefined).ready();
    const consumer = kafka.consumers[0] as FakeConsumer;
    consumer.listeners.get('consumer.group_join')?.({ payload: { memberAssignment: { orders: [0, 1] } } });
    expect((await bus.healthCheck()).status).toBe('pass');
    consumer.listeners.get('consumer.crash')?.({ payload: { error: new Error('broker gone') } });
    await eventually(async () => (await bus.healthCheck()).status === 'warn');
    expect((await bus.healthCheck()).output).toMatch(/consumer not in its group .*broker gone/);
  });

  it('replaces a consumer that crashed for good, and counts the time outside the group from the crash', async () => {
    const { kafka, bus } = make({ stallMs: 20 });
    await bus.subscribe('orders', () => undefined).ready();
    const first = kafka.consumers[0] as FakeConsumer;
    first.listeners.get('consumer.group_join')?.({ payload: { memberAssignment: { orders: [0, 1] } } });
    // kafkajs says `restart: false` when it gives up on an error it does not retry.
    first.listeners.get('consumer.crash')?.({ payload: { error: new Error('refused by the group'), restart: false } });
    await eventually(() => kafka.consumers.length === 2, 10_000);
    expect(first.disconnected).toBe(true);
    // The new consumer joins (the fake joins as soon as it runs).
    await eventually(async () => (await bus.healthCheck()).status === 'pass');
    // A crash kafkajs recovers from, then its attempts to rejoin: outside since the crash, for its reason.
    const second = kafka.consumers[1] as FakeConsumer;
    second.listeners.get('consumer.crash')?.({ payload: { error: new Error('coordinator moved'), restart: true } });
    const crashed = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    second.listeners.get('consumer.rebalancing')?.({ payload: {} });
    const asked = Date.now();
    const output = (await bus.healthCheck()).output ?? '';
    const outFor = Number(/not in its group for (\d+) ms \(consumer crashed: coordinator moved\)/.exec(output)?.[1]);
    // Counted from the crash (at least until the check was asked), not from the rejoin attempt 300 ms later.
    expect(outFor).toBeGreaterThanOrEqual(asked - crashed);
    expect(kafka.consumers).toHaveLength(2);
  });

  it('rejects bad topic names and options with coded errors that name them', async () => {
    const { kafka, bus } = make();
    for (const topic of ['bad:topic', '..', 'x'.repeat(250), 'with space']) {
      await expect(bus.publish(topic, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', option: 'topic' });
    }
    // Checked when subscribing, before any consumer starts: a topic argument is INVALID_ARGUMENT ...
    expect(() => bus.subscribe('orders:new', () => undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', option: 'topic', value: 'orders:new' }),
    );
    // ... and a topic from options INVALID_OPTION, instead of a dead letter that fails at every attempt later.
    expect(() => bus.subscribe('orders', () => undefined, { deadLetterTopic: 'orders/dead' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        option: 'deadLetterTopic',
        message: expect.stringContaining('orders/dead'),
      }),
    );
    const long = 'x'.repeat(249);
    const renamed = new MessageBus({ adapter: new KafkaAdapter({ kafka }), deadLetterTopic: (t) => `${t}:dead` });
    expect(() => renamed.subscribe('orders', () => undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'deadLetterTopic', value: 'orders:dead' }),
    );
    // The default `<topic>.dlq` of a topic of 249 characters is one Kafka refuses.
    expect(() => bus.subscribe(long, () => undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'deadLetterTopic', value: `${long}.dlq` }),
    );
    expect(kafka.consumers).toEqual([]);
    expect(() => new KafkaAdapter({ kafka, sessionTimeoutMs: 6000, heartbeatMs: 5000 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'heartbeatMs' }),
    );
    expect(() => new KafkaAdapter({ kafka, partitionsConsumedConcurrently: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'partitionsConsumedConcurrently' }),
    );
  });

  it('reports lag from committed offsets and the high watermark', async () => {
    const { adapter, bus } = make();
    expect(await adapter.backlog('orders', 'billing')).toEqual({ pending: 0, lag: 6 });
    expect((await bus.healthCheck()).status).toBe('pass');
  });

  it('creates a kafkajs client from KAFKA_BROKERS, which it validates', async () => {
    vi.stubEnv('KAFKA_BROKERS', '');
    try {
      await expect(createKafkaAdapter()).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'KAFKA_BROKERS' });
      vi.stubEnv('KAFKA_BROKERS', 'localhost:9092, other:9093');
      const adapter = await createKafkaAdapter();
      expect(adapter).toBeInstanceOf(KafkaAdapter);
      await adapter.close();
    } finally {
      vi.unstubAllEnvs();
    }
    await expect(createKafkaAdapter({ brokers: ['not a broker'] })).rejects.toMatchObject({ option: 'brokers' });
    expect(() => new KafkaAdapter({ kafka: {} as never })).toThrow(expect.objectContaining({ option: 'kafka' }));
  });
});
