import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './services.js';

/** The shape of a message bus this suite checks (see @infra/messaging MessageBus). */
interface ReceivedMessage {
  id: string;
  topic: string;
  key: string | null;
  headers: Readonly<Record<string, string>>;
  timestamp: number;
  payload: unknown;
  attempt: number;
  deliveryCount: number;
  group: string;
  correlationId: string;
  traceparent: string | undefined;
  signal: AbortSignal;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test declares the payload it publishes
type Handler = (payload: any, message: ReceivedMessage) => unknown;
interface SubscribeOptions {
  group?: string;
  concurrency?: number;
  maxInFlight?: number;
  retry?: { maxAttempts?: number; initialDelayMs?: number; maxDelayMs?: number; jitter?: 'full' | 'none' };
  deadLetterTopic?: string | false;
  schema?: (payload: unknown) => boolean;
  startFrom?: 'latest' | 'earliest';
}
interface Subscription {
  ready(): Promise<void>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}
interface Bus {
  publish(
    topic: string,
    payload: unknown,
    options?: { key?: string; headers?: Record<string, string> },
  ): Promise<{ id: string }>;
  subscribe(topic: string, handler: Handler, options?: SubscribeOptions): Subscription;
  healthCheck(): Promise<{
    status: string;
    observedValue: number;
    subscriptions: { topic: string; inFlight: number; pending: number; lag: number | null }[];
  }>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface MessageBusContractOptions {
  /** Shown in the suite's title. */
  name: string;
  /**
   * Creates a bus on the backend under test. Two buses created by one run of the suite share the
   * backend (topics, groups); the factory puts a run-unique prefix on everything it names.
   * `claimIdleMs` is how long a message may stay unacknowledged before the group gets it again.
   */
  create: (options: { claimIdleMs: number }) => Bus | Promise<Bus>;
  capabilities: {
    /** Per-key order holds across all consumers of a group. */
    orderingPerKey: boolean;
    /** A second bus on the same backend sees what the first one left behind. */
    persistence: boolean;
    consumerGroups: boolean;
    /** `startFrom: 'earliest'` delivers what was published before the group existed. */
    replay: boolean;
  };
  /** How long a test waits for something to happen (ms). @default 10_000 */
  timeoutMs?: number;
}

const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

async function failure(run: () => unknown): Promise<{ code?: unknown; option?: unknown }> {
  try {
    await run();
  } catch (error) {
    return error as { code?: unknown; option?: unknown };
  }
  return { code: 'no error' };
}

/**
 * Behaviour every message bus adapter must have: delivery with the envelope, consumer groups,
 * per-key order, retries, dead letters (poison messages and schema failures), redelivery after a
 * consumer dies without acknowledging, draining on close, back-pressure, replay, coded errors.
 */
export function messageBusContract(options: MessageBusContractOptions): void {
  const wait = options.timeoutMs ?? 10_000;
  const claimIdleMs = 300;
  const { capabilities } = options;

  describe(`message bus contract: ${options.name}`, () => {
    const buses: Bus[] = [];
    let n = 0;
    const topic = (label: string): string => `contract.${label}.${String(++n)}.${String(Date.now())}`;
    const bus = async (): Promise<Bus> => {
      const created = await options.create({ claimIdleMs });
      buses.push(created);
      return created;
    };
    const subscribe = async (
      target: Bus,
      name: string,
      handler: Handler,
      settings?: SubscribeOptions,
    ): Promise<Subscription> => {
      const subscription = target.subscribe(name, handler, settings);
      await subscription.ready();
      return subscription;
    };

    afterAll(async () => {
      await Promise.all(buses.map((created) => created.close({ timeoutMs: 100 })));
    });

    it('delivers the payload with its envelope', async () => {
      const b = await bus();
      const t = topic('delivery');
      const received: { payload: unknown; message: ReceivedMessage }[] = [];
      await subscribe(b, t, (payload, message) => {
        received.push({ payload, message });
      });
      const payload = {
        userId: 'u1',
        challengeId: 7,
        score: 9.5,
        tags: ['a'],
        nested: { ok: true },
        timestamp: new Date().toISOString(),
      };
      const before = Date.now();
      const { id } = await b.publish(t, payload, { key: 'u1', headers: { source: 'contract' } });
      await eventually(() => received.length === 1, wait);
      const [{ payload: got, message }] = received as [{ payload: unknown; message: ReceivedMessage }];
      expect(got).toEqual(payload);
      expect(message).toMatchObject({ id, topic: t, key: 'u1', payload, attempt: 1, deliveryCount: 1 });
      expect(message.headers.source).toBe('contract');
      expect(message.timestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(message.correlationId).toEqual(expect.any(String));
      // No OpenTelemetry SDK here: the bus makes up no trace context of its own.
      expect(message.traceparent).toBeUndefined();
    });

    it('carries correlation id and traceparent from publish to handler', async () => {
      const b = await bus();
      const t = topic('trace');
      const seen: ReceivedMessage[] = [];
      await subscribe(b, t, (_payload, message) => {
        seen.push(message);
      });
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await b.publish(t, { n: 1 }, { headers: { 'correlation-id': 'req-42', traceparent } });
      await eventually(() => seen.length === 1, wait);
      expect(seen[0]).toMatchObject({ correlationId: 'req-42', traceparent });
    });

    it.runIf(capabilities.consumerGroups)(
      'shares a group between its consumers and gives every group all messages',
      async () => {
        const b = await bus();
        const t = topic('groups');
        const byConsumer: [string[], string[]] = [[], []];
        const other: string[] = [];
        const slow = (into: string[]) => async (_payload: unknown, message: ReceivedMessage) => {
          into.push(message.id);
          await pause(10);
        };
        const settings = { group: 'shared', concurrency: 1, maxInFlight: 1 };
        await subscribe(b, t, slow(byConsumer[0]), settings);
        await subscribe(b, t, slow(byConsumer[1]), settings);
        await subscribe(b, t, (_payload, message) => void other.push(message.id), { group: 'other' });
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push((await b.publish(t, { i })).id);
        await eventually(() => byConsumer[0].length + byConsumer[1].length >= 20 && other.length >= 20, wait);
        await pause(100);
        const shared = [...byConsumer[0], ...byConsumer[1]];
        expect(shared.sort()).toEqual([...ids].sort());
        expect(byConsumer[0].length).toBeGreaterThan(0);
        expect(byConsumer[1].length).toBeGreaterThan(0);
        expect([...other].sort()).toEqual([...ids].sort());
      },
    );

    it('keeps per-key order while handlers run concurrently', async () => {
      const b = await bus();
      const t = topic('order');
      const seen = new Map<string, number[]>();
      let running = 0;
      let maxRunning = 0;
      await subscribe(
        b,
        t,
        async (payload: { key: string; seq: number }) => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          seen.set(payload.key, [...(seen.get(payload.key) ?? []), payload.seq]);
          await pause(Math.floor(Math.random() * 4));
          running -= 1;
        },
        { concurrency: 8, maxInFlight: 50 },
      );
      const keys = ['k0', 'k1', 'k2', 'k3'];
      for (let seq = 0; seq < 25; seq++) for (const key of keys) await b.publish(t, { key, seq }, { key });
      await eventually(() => keys.every((key) => (seen.get(key)?.length ?? 0) === 25), wait);
      for (const key of keys) expect(seen.get(key)).toEqual([...Array(25).keys()]);
      expect(maxRunning).toBeGreaterThan(1);
    });

    it.runIf(capabilities.orderingPerKey && capabilities.consumerGroups)(
      'keeps per-key order across the consumers of a group',
      async () => {
        const b = await bus();
        const t = topic('group-order');
        const started = new Map<string, number[]>();
        const handler = async (payload: { key: string; seq: number }) => {
          started.set(payload.key, [...(started.get(payload.key) ?? []), payload.seq]);
          await pause(Math.floor(Math.random() * 3));
        };
        await subscribe(b, t, handler, { group: 'ordered', concurrency: 4 });
        await subscribe(b, t, handler, { group: 'ordered', concurrency: 4 });
        const keys = ['a', 'b', 'c'];
        for (let seq = 0; seq < 20; seq++) for (const key of keys) await b.publish(t, { key, seq }, { key });
        await eventually(() => keys.every((key) => (started.get(key)?.length ?? 0) >= 20), wait);
        for (const key of keys) expect(started.get(key)).toEqual([...Array(20).keys()]);
      },
    );

    it('retries a failing handler, then acknowledges it once it succeeds', async () => {
      const b = await bus();
      const t = topic('retry');
      const attempts: number[] = [];
      const dead: unknown[] = [];
      await subscribe(b, `${t}.dlq`, (payload) => void dead.push(payload));
      await subscribe(
        b,
        t,
        (_payload, message) => {
          attempts.push(message.attempt);
          if (message.attempt < 3) throw new Error(`transient ${String(message.attempt)}`);
        },
        { retry: { maxAttempts: 3, initialDelayMs: 5, jitter: 'none' } },
      );
      await b.publish(t, { job: 1 });
      await eventually(() => attempts.length === 3, wait);
      await pause(claimIdleMs + 200);
      expect(attempts).toEqual([1, 2, 3]);
      expect(dead).toEqual([]);
    });

    it('dead-letters a message after its last attempt without blocking the messages behind it', async () => {
      const b = await bus();
      const t = topic('poison');
      const dead: ReceivedMessage[] = [];
      const handled: string[] = [];
      await subscribe(b, `${t}.dlq`, (_payload, message) => void dead.push(message));
      await subscribe(
        b,
        t,
        (payload: { name: string }) => {
          if (payload.name === 'poison') throw new Error('cannot digest');
          handled.push(payload.name);
        },
        { retry: { maxAttempts: 2, initialDelayMs: 5 } },
      );
      const poison = await b.publish(t, { name: 'poison' }, { key: 'same' });
      await b.publish(t, { name: 'after-same-key' }, { key: 'same' });
      await b.publish(t, { name: 'other-key' }, { key: 'other' });
      await eventually(() => dead.length === 1 && handled.length === 2, wait);
      expect(handled.sort()).toEqual(['after-same-key', 'other-key']);
      const [letter] = dead as [ReceivedMessage];
      expect(letter.payload).toEqual({ name: 'poison' });
      expect(letter.id).toBe(poison.id);
      expect(letter.headers).toMatchObject({
        'x-attempts': '2',
        'x-error': 'cannot digest',
        'x-original-topic': t,
        'x-dead-letter-reason': 'handler',
      });
    });

    it('dead-letters a payload its schema rejects and keeps consuming', async () => {
      const b = await bus();
      const t = topic('schema');
      const dead: ReceivedMessage[] = [];
      const handled: unknown[] = [];
      await subscribe(b, `${t}.dlq`, (_payload, message) => void dead.push(message));
      await subscribe(b, t, (payload) => void handled.push(payload), {
        schema: (payload) => typeof (payload as { n?: unknown }).n === 'number',
      });
      await b.publish(t, { n: 'not a number' });
      await b.publish(t, { n: 1 });
      await eventually(() => dead.length === 1 && handled.length === 1, wait);
      expect(handled).toEqual([{ n: 1 }]);
      expect(dead[0]?.headers).toMatchObject({ 'x-dead-letter-reason': 'validation', 'x-attempts': '0' });
    });

    it('redelivers what a consumer took and never acknowledged', async () => {
      const b = await bus();
      const t = topic('redelivery');
      let release!: () => void;
      const hang = new Promise<void>((resolve) => (release = resolve));
      const first: ReceivedMessage[] = [];
      const crashed = await subscribe(
        b,
        t,
        async (_payload, message) => {
          first.push(message);
          await hang;
        },
        { group: 'g' },
      );
      const { id } = await b.publish(t, { important: true });
      await eventually(() => first.length === 1, wait);
      // The handler never finishes: closing with a tiny deadline is a consumer dying mid-message.
      await crashed.close({ timeoutMs: 10 });
      const second: ReceivedMessage[] = [];
      await subscribe(b, t, (_payload, message) => void second.push(message), { group: 'g' });
      try {
        await eventually(() => second.length >= 1, wait);
        await pause(claimIdleMs + 200);
        expect(second).toHaveLength(1);
        expect(second[0]).toMatchObject({ id, payload: { important: true } });
        expect(second[0]?.deliveryCount).toBeGreaterThan(1);
      } finally {
        release();
      }
    });

    it('drains in-flight handlers on close and acknowledges them', async () => {
      const b = await bus();
      const t = topic('drain');
      let finished = 0;
      const startedIds: string[] = [];
      const draining = await subscribe(
        b,
        t,
        async (_payload, message) => {
          startedIds.push(message.id);
          await pause(150);
          finished += 1;
        },
        { group: 'g', concurrency: 2 },
      );
      await b.publish(t, { n: 1 });
      await b.publish(t, { n: 2 });
      await eventually(() => startedIds.length === 2, wait);
      await draining.close({ timeoutMs: 5_000 });
      expect(finished).toBe(2);
      const later: unknown[] = [];
      await subscribe(b, t, (payload) => void later.push(payload), { group: 'g' });
      await b.publish(t, { n: 3 });
      await eventually(() => later.length >= 1, wait);
      await pause(claimIdleMs + 300);
      expect(later).toEqual([{ n: 3 }]);
      expect(startedIds).toHaveLength(2);
    });

    it('fetches no more than maxInFlight unfinished messages', async () => {
      const b = await bus();
      const t = topic('backpressure');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = 0;
      let runs = 0;
      const handled = new Set<number>();
      await subscribe(
        b,
        t,
        async (payload: { i: number }) => {
          started += 1;
          await gate;
          handled.add(payload.i);
          runs += 1;
        },
        { concurrency: 2, maxInFlight: 3 },
      );
      for (let i = 0; i < 10; i++) await b.publish(t, { i });
      await eventually(() => started === 2, wait);
      await pause(100);
      const health = await b.healthCheck();
      const mine = health.subscriptions.find((s) => s.topic === t);
      expect(mine?.inFlight).toBe(3);
      expect(mine?.pending).toBeLessThanOrEqual(3);
      if (mine?.lag !== null) expect(mine?.lag).toBeGreaterThanOrEqual(7);
      expect(started).toBe(2);
      release();
      // At least once: where the transport's acknowledgement deadline is short (NATS here: 300 ms) a
      // starved machine can miss it while the gate is closed, and the message runs again. Every one of
      // the ten must have run.
      await eventually(() => handled.size === 10, wait).catch((error: unknown) => {
        throw new Error(`${String(handled.size)} of 10 messages handled, in ${String(runs)} runs`, { cause: error });
      });
    });

    it.runIf(capabilities.replay)('replays earlier messages to a new group that starts from the earliest', async () => {
      const b = await bus();
      const t = topic('replay');
      await b.publish(t, { early: 1 });
      await b.publish(t, { early: 2 });
      const got: unknown[] = [];
      await subscribe(b, t, (payload) => void got.push(payload), { group: 'late', startFrom: 'earliest' });
      await eventually(() => got.length === 2, wait);
      expect(got).toEqual([{ early: 1 }, { early: 2 }]);
    });

    it.runIf(capabilities.persistence)("keeps a group's messages while none of its consumers runs", async () => {
      const first = await bus();
      const t = topic('persist');
      const gone = await subscribe(first, t, () => undefined, { group: 'durable' });
      await gone.close();
      await first.publish(t, { kept: true });
      const second = await bus();
      const got: unknown[] = [];
      await subscribe(second, t, (payload) => void got.push(payload), { group: 'durable' });
      await eventually(() => got.length === 1, wait);
      expect(got).toEqual([{ kept: true }]);
    });

    it('rejects bad input with coded errors that name it', async () => {
      const b = await bus();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expect(await failure(() => b.publish('', {}))).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'topic' });
      expect(await failure(() => b.publish('t', { n: 10n }))).toMatchObject({ code: 'SERIALIZATION_FAILED' });
      expect(await failure(() => b.publish('t', circular))).toMatchObject({ code: 'SERIALIZATION_FAILED' });
      expect(await failure(() => b.publish('t', undefined))).toMatchObject({ code: 'SERIALIZATION_FAILED' });
      expect(await failure(() => b.subscribe('t', 'handler' as never))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        option: 'handler',
      });
      expect(await failure(() => b.subscribe('', () => undefined))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        option: 'topic',
      });
      expect(await failure(() => b.subscribe('t', () => undefined, { concurrency: 0 }))).toMatchObject({
        code: 'INVALID_OPTION',
        option: 'concurrency',
      });
    });

    it('reports its health', async () => {
      const b = await bus();
      const t = topic('health');
      await subscribe(b, t, () => undefined);
      const health = await b.healthCheck();
      expect(health.status).toBe('pass');
      expect(health.observedValue).toBeGreaterThanOrEqual(0);
      expect(health.subscriptions.map((s) => s.topic)).toContain(t);
    });
  });
}
