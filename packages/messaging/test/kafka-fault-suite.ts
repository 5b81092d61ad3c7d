import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  buildIfStale,
  closedPort,
  createKafkaTopics,
  eventually,
  startPrivateKafka,
  uniqueName,
} from '@infra/test-utils';
import { AssignerProtocol, ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../src/message-bus.js';
import type { KafkaAdapter, KafkaAdapterOptions } from '../src/kafka/kafka-adapter.js';
import type { KafkaClientLike } from '../src/kafka/kafka-client.js';
import { recordingClient, type ConsumerRecord } from '../test-fixtures/kafka-recording.mjs';
import { UncommittedWindow } from './uncommitted-window.js';

export interface KafkaFaultSuiteOptions {
  /** The client under test; also what the replica child loads (`dist/<client>/index.js`). */
  client: 'kafka' | 'platformatic-kafka';
  /** The shared broker (`KAFKA_BROKERS`); private brokers are started for the restart test. */
  brokers: string;
  /** The adapter as a user creates it, from options. */
  create: (options: Omit<KafkaAdapterOptions, 'kafka'>) => Promise<KafkaAdapter>;
}

interface Handled {
  topic: string;
  key: string | null;
  seq: number;
  by: string;
}

const id = (entry: { topic: string; key: string | null; seq: number }): string =>
  `${entry.topic}/${String(entry.key)}/${String(entry.seq)}`;

/** Checks what a run handled: every message, per-key order of first deliveries; returns the duplicates. */
function verify(handled: readonly Handled[], expected: number): number {
  const seen = new Set<string>();
  const lastByKey = new Map<string, number>();
  for (const entry of handled) {
    if (seen.has(id(entry))) continue;
    seen.add(id(entry));
    const key = `${entry.topic}/${String(entry.key)}`;
    expect(entry.seq, `order of ${key}`).toBeGreaterThan(lastByKey.get(key) ?? -1);
    lastByKey.set(key, entry.seq);
  }
  expect(seen.size).toBe(expected);
  return handled.length - seen.size;
}

const distinct = (handled: readonly Handled[]): number => new Set(handled.map(id)).size;

/**
 * Points the adapter's client layer (made by its factory, as a user gets it) at an instrumented one
 * before any use, so that the test sees what each consumer hands to the bus and commits.
 */
function instrument(adapter: KafkaAdapter, member: string, report: (record: ConsumerRecord) => void): void {
  const internal = adapter as unknown as { kafka: KafkaClientLike };
  internal.kafka = recordingClient(internal.kafka, member, report);
}

/**
 * The fault tests every Kafka adapter passes on a real broker: a replica SIGKILLed, a broker
 * restarted, a dead-letter topic that refuses messages, a rebalance, unreachable brokers, and what
 * the health check says about stalled partitions, lag and a consumer outside its group.
 */
export function kafkaFaultSuite(options: KafkaFaultSuiteOptions): void {
  const { client, brokers, create } = options;
  const prefix = uniqueName(`${client}_faults`).replaceAll('_', '-');
  const admin = new Kafka({ clientId: prefix, brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  const buses: MessageBus[] = [];
  const children: ChildProcess[] = [];
  const base = { clientId: prefix, sessionTimeoutMs: 6000, heartbeatMs: 500, connectTimeoutMs: 5000 };
  const open = async (
    group: string,
    extra: Omit<KafkaAdapterOptions, 'kafka'> & { busOptions?: ConstructorParameters<typeof MessageBus>[0] } = {},
    member?: { name: string; report: (record: ConsumerRecord) => void },
  ): Promise<MessageBus> => {
    const { busOptions, ...adapterOptions } = extra;
    const adapter = await create({ brokers, ...base, ...adapterOptions });
    if (member) instrument(adapter, member.name, member.report);
    const bus = new MessageBus({ adapter, group, lagIntervalMs: 0, ...busOptions });
    buses.push(bus);
    return bus;
  };
  const createTopics = async (
    names: readonly string[],
    configEntries: { name: string; value: string }[] = [],
    on = admin,
  ): Promise<void> => {
    await createKafkaTopics(
      on,
      names.map((topic) => ({ topic, numPartitions: 3, configEntries })),
    );
  };
  /** Messages the topics hold, from their high-water marks: more than published when a producer retried a batch. */
  const stored = async (...names: string[]): Promise<number> => {
    let total = 0;
    for (const name of names) total += (await admin.fetchTopicOffsets(name)).reduce((n, p) => n + Number(p.high), 0);
    return total;
  };
  const pair = async (label: string): Promise<[string, string]> => {
    const names: [string, string] = [`${prefix}.${label}.a`, `${prefix}.${label}.b`];
    await createTopics(names);
    return names;
  };
  /** Sequences `from` to `to` of 8 keys on each topic, one batch per sequence. */
  const publish = async (bus: MessageBus, names: readonly string[], from: number, to: number): Promise<void> => {
    for (let seq = from; seq < to; seq++) {
      await bus.publishBatch(
        names.flatMap((topic) =>
          Array.from({ length: 8 }, (_, k) => ({ topic, payload: { seq }, key: `key-${String(k)}` })),
        ),
      );
    }
  };
  const consume = async (bus: MessageBus, names: readonly string[], handled: Handled[], by: string) => {
    const handler = (payload: { seq: number }, message: { topic: string; key: string | null }) =>
      void handled.push({ topic: message.topic, key: message.key, seq: payload.seq, by });
    await Promise.all(
      bus.consumer
        .subscribeAll(Object.fromEntries(names.map((topic) => [topic, handler])), { startFrom: 'earliest' })
        .map((subscription) => subscription.ready()),
    );
  };

  describe(`${client} adapter: faults on a real broker`, () => {
    beforeAll(async () => {
      ensureBuilt();
      await admin.connect();
    }, 120_000);
    afterAll(async () => {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(buses.map((bus) => bus.close({ timeoutMs: 1000 })));
      await admin.disconnect();
    });

    it('a replica killed with SIGKILL mid-stream: its partitions move, nothing is lost, duplicates stay within the uncommitted window', async () => {
      const names = await pair('killed');
      const group = `${prefix}-killed`;
      const handled: Handled[] = [];
      const window = new UncommittedWindow();
      const survivor = await open(
        group,
        {},
        {
          name: 'survivor',
          report: (record) => {
            window.record(record);
          },
        },
      );
      await consume(survivor, names, handled, 'survivor');
      const script = fileURLToPath(new URL('../test-fixtures/kafka-replica.mjs', import.meta.url));
      const child = fork(script, [client, brokers, group, names.join(',')], { stdio: 'inherit' });
      children.push(child);
      const exited = new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
      });
      let byReplica = 0;
      child.on('message', (message: { handled?: Omit<Handled, 'by'>; record?: ConsumerRecord }) => {
        if (message.record) window.record(message.record);
        if (!message.handled) return;
        byReplica += 1;
        handled.push({ ...message.handled, by: 'replica' });
      });
      await new Promise<void>((resolve, reject) => {
        child.on('message', (message: { ready?: boolean }) => {
          if (message.ready) resolve();
        });
        void exited.then(() => {
          reject(new Error('the replica exited before it was ready'));
        });
      });
      await publish(survivor, names, 0, 20);
      await eventually(() => byReplica >= 20, 60_000);
      child.kill('SIGKILL');
      await exited;
      // What the replica handed to its bus and did not commit comes back to the survivor.
      window.settle('replica');
      await publish(survivor, names, 20, 40);
      await eventually(() => distinct(handled) >= 640, 90_000);
      const duplicates = verify(handled, 640);
      const replicaKeys = new Set(handled.filter((h) => h.by === 'replica').map((h) => `${h.topic}/${String(h.key)}`));
      const movedKeys = new Set(
        handled.filter((h) => h.by === 'survivor' && replicaKeys.has(`${h.topic}/${String(h.key)}`)).map((h) => h.key),
      );
      expect(replicaKeys.size).toBeGreaterThan(0);
      // The replica's partitions moved: the survivor handled the later messages of its keys.
      expect(movedKeys.size).toBeGreaterThan(0);
      // Only what some member had handed to its bus without committing comes twice, besides the extra
      // copies a producer that retried a batch on a loaded machine wrote (each is handled once more).
      const extra = (await stored(...names)) - 640;
      expect(extra).toBeGreaterThanOrEqual(0);
      console.log(
        `[${client}] SIGKILL of a replica: ${String(byReplica)} handled by it, ${String(duplicates)} handled twice, ` +
          `uncommitted window ${String(window.total)}, ${String(extra)} extra copies written by the producer`,
      );
      expect(duplicates).toBeLessThanOrEqual(window.total + extra);
    }, 180_000);

    it('a private broker restarted mid-stream: the consumer recovers by itself and nothing is lost', async () => {
      const broker = await startPrivateKafka();
      const privateAdmin = new Kafka({
        clientId: prefix,
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
      }).admin();
      try {
        await privateAdmin.connect();
        const names: [string, string] = [`${prefix}.restart.a`, `${prefix}.restart.b`];
        await createTopics(names, [], privateAdmin);
        await privateAdmin.disconnect();
        const adapter = await create({ ...base, brokers: broker.bootstrap });
        const bus = new MessageBus({ adapter, group: `${prefix}-restart`, lagIntervalMs: 0 });
        buses.push(bus);
        const errors: unknown[] = [];
        bus.on('error', (event) => void errors.push(event.error));
        const handled: Handled[] = [];
        await consume(bus, names, handled, 'restarted');
        await publish(bus, names, 0, 10);
        await eventually(() => distinct(handled) >= 160, 60_000);
        await broker.kill();
        await eventually(async () => (await bus.healthCheck()).status === 'fail', 30_000);
        await broker.start();
        // Publishing waits for the broker to lead its partitions again; the consumer is left alone.
        await eventually(async () => {
          try {
            await publish(bus, names, 10, 11);
            return true;
          } catch {
            return false;
          }
        }, 120_000);
        await publish(bus, names, 11, 20);
        await eventually(() => distinct(handled) >= 320, 120_000);
        verify(handled, 320);
        await eventually(async () => (await bus.healthCheck()).status === 'pass', 60_000);
      } finally {
        await Promise.all(buses.splice(buses.length - 1).map((bus) => bus.close({ timeoutMs: 1000 })));
        await broker.close();
      }
    }, 300_000);

    it('a dead-letter topic that refuses the message: retried with error events, its partition waits, the rest flows, health warns, then it recovers', async () => {
      const topic = `${prefix}.refused`;
      await createTopics([topic]);
      // The broker refuses every record over 64 bytes on the dead-letter topic: MESSAGE_TOO_LARGE.
      await createTopics([`${topic}.dlq`], [{ name: 'max.message.bytes', value: '64' }]);
      const group = `${prefix}-refused`;
      const bus = await open(group, { stallMs: 1500 });
      const errors: { operation: string; error: unknown }[] = [];
      const deadLettered: string[] = [];
      bus.on('error', (event) => void errors.push(event));
      bus.on('deadLettered', (event) => void deadLettered.push(event.id));
      const handled: Handled[] = [];
      await bus
        .subscribe(
          topic,
          (payload: { seq: number }, message) => {
            if (message.key === 'poison') throw new Error('cannot handle this one');
            handled.push({ topic, key: message.key, seq: payload.seq, by: 'bus' });
          },
          { startFrom: 'earliest', retry: { maxAttempts: 1 }, concurrency: 4 },
        )
        .ready();
      await publish(bus, [topic], 0, 10);
      const [poison] = await bus.publishBatch([{ topic, key: 'poison', payload: { seq: 10 } }]);
      await publish(bus, [topic], 11, 20);
      // Every other message is handled, on every partition, the poison's included.
      await eventually(() => distinct(handled) >= 152, 60_000);
      await eventually(() => errors.filter((e) => e.operation === 'deadLetter').length >= 2, 30_000);
      expect(errors.find((e) => e.operation === 'deadLetter')).toMatchObject({ error: { code: 'PUBLISH_FAILED' } });
      expect(deadLettered).toEqual([]);
      let health = await bus.healthCheck();
      await eventually(async () => {
        health = await bus.healthCheck();
        return health.status === 'warn';
      }, 30_000);
      expect(health.output).toMatch(new RegExp(`partition ${topic.replaceAll('.', '\\.')}\\[\\d\\] stalled on offset`));
      // Its partition commits nothing past the poison: the group lags by it at least.
      expect(health.subscriptions[0]?.lag).toBeGreaterThanOrEqual(1);
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: `${topic}.dlq`,
            configEntries: [{ name: 'max.message.bytes', value: '1048588' }],
          },
        ],
      });
      await eventually(() => deadLettered.includes(poison?.id ?? '?'), 60_000);
      expect(await stored(`${topic}.dlq`)).toBe(1);
      await eventually(async () => {
        health = await bus.healthCheck();
        return health.status === 'pass' && health.subscriptions[0]?.lag === 0;
      }, 60_000);
    }, 150_000);

    it('rebalance: the old owner commits nothing for a partition it lost once the new owner started', async () => {
      const [topic] = await pair('rebalance');
      const group = `${prefix}-rebalance`;
      const commits: { by: string; at: number; partition: number }[] = [];
      const firstHandled = new Map<string, number>();
      const member = async (by: string): Promise<MessageBus> => {
        const bus = await open(
          group,
          {},
          {
            name: by,
            report: (record) => {
              if (record.kind === 'committed') commits.push({ by, at: record.at, partition: record.partition });
            },
          },
        );
        const handle = async (): Promise<void> => {
          if (!firstHandled.has(by)) firstHandled.set(by, Date.now());
          await new Promise((resolve) => setTimeout(resolve, 20));
        };
        await bus.subscribe(topic, handle, { startFrom: 'earliest', concurrency: 4 }).ready();
        return bus;
      };
      const old = await member('old');
      await publish(old, [topic], 0, 30);
      await eventually(() => commits.some((c) => c.by === 'old'), 60_000);
      await member('new');
      // The old owner may have handled everything before the new one joined (a busy machine makes
      // that likely): more messages give the new owner something to handle and commit.
      await publish(old, [topic], 30, 60);
      await eventually(() => commits.some((c) => c.by === 'new') && firstHandled.has('new'), 90_000);
      // Commits the old owner might still send arrive within this pause.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const started = firstHandled.get('new') ?? Infinity;
      const moved = new Set(commits.filter((c) => c.by === 'new').map((c) => c.partition));
      expect(moved.size).toBeGreaterThan(0);
      expect(commits.filter((c) => c.by === 'old' && c.at >= started && moved.has(c.partition))).toEqual([]);
    }, 150_000);

    it('brokers unreachable at start: ADAPTER_UNAVAILABLE within the connect timeout, never a hang', async () => {
      const connectTimeoutMs = 1500;
      // A hang check, not a speed check: generous room for a busy machine beyond the configured bound.
      const bound = connectTimeoutMs + 5000;
      const port = await closedPort();
      const adapter = await create({ brokers: `127.0.0.1:${String(port)}`, connectTimeoutMs });
      const bus = new MessageBus({ adapter, lagIntervalMs: 0, healthTimeoutMs: 5000 });
      buses.push(bus);
      const timed = async (action: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> => {
        const started = performance.now();
        const error = await action().then(
          () => undefined,
          (failure: unknown) => failure,
        );
        return { ms: Math.round(performance.now() - started), error };
      };
      const ping = await timed(() => adapter.ping());
      expect(ping.error).toMatchObject({ code: 'ADAPTER_UNAVAILABLE', isRetryable: true });
      // The bus reports a transport that is away as a failed (retryable) publish, the adapter's verdict as its cause.
      const published = await timed(() => bus.publish('orders', { n: 1 }));
      expect(published.error).toMatchObject({
        code: 'PUBLISH_FAILED',
        isRetryable: true,
        message: expect.stringContaining(`within ${String(connectTimeoutMs)} ms`) as unknown,
        cause: { code: 'ADAPTER_UNAVAILABLE' },
      });
      const errors: { error: unknown; at: number }[] = [];
      bus.on('error', (event) => void errors.push({ error: event.error, at: performance.now() }));
      const subscribedAt = performance.now();
      bus.subscribe('orders', () => undefined);
      await eventually(() => errors.length > 0, 30_000);
      const subscribeMs = Math.round((errors[0]?.at ?? 0) - subscribedAt);
      expect(errors[0]?.error).toMatchObject({ code: 'ADAPTER_UNAVAILABLE' });
      const health = await timed(() => bus.healthCheck());
      expect((await bus.healthCheck()).status).toBe('fail');
      const closed = await timed(() => bus.close({ timeoutMs: 1000 }));
      console.log(
        `[${client}] unreachable brokers, connectTimeoutMs ${String(connectTimeoutMs)}: ping failed after ` +
          `${String(ping.ms)} ms, publish after ${String(published.ms)} ms, subscribe reported after ` +
          `${String(subscribeMs)} ms, health answered in ${String(health.ms)} ms, close took ${String(closed.ms)} ms`,
      );
      for (const ms of [ping.ms, published.ms, subscribeMs, closed.ms]) expect(ms).toBeLessThan(bound);
    }, 60_000);

    it('health: a stalled partition and consumer lag are reported, and clear once the handler moves on', async () => {
      const topic = `${prefix}.stalled`;
      await createTopics([topic]);
      const bus = await open(`${prefix}-stalled`, { stallMs: 1500, busOptions: { healthWarnBacklog: 10 } });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let handledCount = 0;
      await bus
        .subscribe(
          topic,
          async () => {
            await gate;
            handledCount += 1;
          },
          { startFrom: 'earliest' },
        )
        .ready();
      await publish(bus, [topic], 0, 4);
      let health = await bus.healthCheck();
      await eventually(async () => {
        health = await bus.healthCheck();
        return health.status === 'warn' && /stalled on offset/.test(health.output ?? '');
      }, 30_000);
      expect(health.output).toContain('backlog of');
      // Nothing is committed while the handler waits: the group lags by every message on the topic. That is at
      // least the 32 published, and more when the (not idempotent) producer retried a batch on a loaded machine.
      const held = await stored(topic);
      expect(held).toBeGreaterThanOrEqual(32);
      expect(health.subscriptions[0]).toMatchObject({ topic, lag: held });
      release();
      await eventually(() => handledCount >= 32, 30_000);
      await eventually(async () => {
        health = await bus.healthCheck();
        return health.status === 'pass' && health.subscriptions[0]?.lag === 0;
      }, 30_000);
    }, 90_000);

    it('health: a consumer that cannot join its group is reported as not in its group, and clears once it joins', async () => {
      const topic = `${prefix}.outside`;
      await createTopics([topic]);
      const group = `${prefix}-outside`;
      // A member of another protocol holds the group: a member offering none of its assigners is refused.
      const foreign = new Kafka({ clientId: prefix, brokers: brokers.split(','), logLevel: logLevel.NOTHING }).consumer(
        { groupId: group, sessionTimeout: 6000, heartbeatInterval: 500, partitionAssigners: [foreignAssigner] },
      );
      await foreign.connect();
      await foreign.subscribe({ topics: [topic] });
      let foreignJoined = false;
      foreign.on(foreign.events.GROUP_JOIN, () => {
        foreignJoined = true;
      });
      await foreign.run({ eachMessage: () => Promise.resolve() });
      try {
        await eventually(() => foreignJoined, 30_000);
        const bus = await open(group, { stallMs: 1500 });
        const subscription = bus.subscribe(topic, () => undefined, { startFrom: 'earliest' });
        let health = await bus.healthCheck();
        await eventually(async () => {
          health = await bus.healthCheck();
          return health.status !== 'pass' && /not in its group/.test(health.output ?? '');
        }, 60_000);
        console.log(`[${client}] a consumer refused by its group: health ${health.status}: ${String(health.output)}`);
        await foreign.disconnect();
        await subscription.ready();
        await eventually(async () => (await bus.healthCheck()).status === 'pass', 90_000);
      } finally {
        await foreign.disconnect();
      }
    }, 180_000);
  });
}

/** A kafkajs assigner under a protocol name no adapter offers. */
const foreignAssigner = (): {
  name: string;
  version: number;
  assign: (group: { members: { memberId: string }[]; topics: string[] }) => Promise<never[]>;
  protocol: (subscription: { topics: string[] }) => { name: string; metadata: Buffer };
} => ({
  name: 'foreign-assigner',
  version: 0,
  assign: () => Promise.resolve([]),
  protocol: ({ topics }) => ({
    name: 'foreign-assigner',
    metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
  }),
});

/** The replica child runs the built package: build it if it is missing or older than a source file. */
function ensureBuilt(): void {
  buildIfStale(fileURLToPath(new URL('..', import.meta.url)), 'index.js');
}
