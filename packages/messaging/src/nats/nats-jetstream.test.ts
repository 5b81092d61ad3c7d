import { connect } from '@nats-io/transport-node';
import { deleteNatsStreams, natsServers, uniqueName } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { pause } from '../../test/fault-kit.js';
import { MessageBus } from '../message-bus.js';
import { createNatsAdapter } from './nats-adapter.js';
import type { NatsAdapterOptions } from './nats-options.js';

const servers = natsServers('@infra/messaging NATS JetStream adapter');
const run = uniqueName('nats_js');
const wait = { timeout: 15_000, interval: 20 };

describe.skipIf(!servers)('nats jetstream adapter', () => {
  const buses: MessageBus[] = [];
  let n = 0;
  const topic = (label: string): string => `${label}.${String(++n)}`;
  const bus = async (options: NatsAdapterOptions = {}, group = 'g'): Promise<MessageBus> => {
    const adapter = await createNatsAdapter({
      servers,
      streamPrefix: `${run}_`,
      subjectPrefix: run,
      ackWaitMs: 500,
      fetchWaitMs: 500,
      ...options,
    });
    const created = new MessageBus({ adapter, group, lagIntervalMs: 0 });
    buses.push(created);
    return created;
  };

  afterAll(async () => {
    await Promise.all(buses.map((created) => created.close({ timeoutMs: 500 })));
    await deleteNatsStreams(servers ?? '', `${run}_`);
  });

  it('stores a message published twice with one id once (Nats-Msg-Id), and delivers it once', async () => {
    const b = await bus();
    const t = topic('dedup');
    const got: { id: string; payload: unknown }[] = [];
    await b.subscribe(t, (payload, message) => void got.push({ id: message.id, payload })).ready();
    const first = await b.publish(t, { n: 1 }, { id: 'order-42' });
    const again = await b.publish(t, { n: 1 }, { id: 'order-42' });
    await b.publishBatch([
      { topic: t, payload: { n: 2 }, id: 'order-43' },
      { topic: t, payload: { n: 2 }, id: 'order-43' },
    ]);
    expect(again.id).toBe(first.id);
    await expect.poll(() => got.length, wait).toBe(2);
    await pause(700);
    expect(got).toEqual([
      { id: 'order-42', payload: { n: 1 } },
      { id: 'order-43', payload: { n: 2 } },
    ]);
    const health = await b.healthCheck();
    expect(health.subscriptions[0]).toMatchObject({ pending: 0, lag: 0 });
  });

  it('keeps the dead letters of one message from two groups (each keeps its own publish id)', async () => {
    const b = await bus();
    const t = topic('two-groups');
    const dead: { id: string; group: string | undefined }[] = [];
    await b
      .subscribe(
        `${t}.dlq`,
        (_payload, message) => void dead.push({ id: message.id, group: message.headers['x-consumer-group'] }),
        {
          group: 'audit',
        },
      )
      .ready();
    const fail = (): never => {
      throw new Error('no');
    };
    await b.subscribe(t, fail, { group: 'one', retry: { maxAttempts: 1 } }).ready();
    await b.subscribe(t, fail, { group: 'two', retry: { maxAttempts: 1 } }).ready();
    const { id } = await b.publish(t, { poison: true });
    await expect.poll(() => dead.length, wait).toBe(2);
    expect(dead.map((letter) => letter.id)).toEqual([id, id]);
    expect(dead.map((letter) => letter.group).sort()).toEqual(['one', 'two']);
  });

  it('does not redeliver a message whose handler runs longer than AckWait, nor one the bus retries past it', async () => {
    const b = await bus({ ackWaitMs: 300 });
    const t = topic('slow');
    const seen: { payload: unknown; attempt: number; deliveryCount: number }[] = [];
    await b
      .subscribe(
        t,
        async (payload: { slow?: boolean; flaky?: boolean }, message) => {
          seen.push({ payload, attempt: message.attempt, deliveryCount: message.deliveryCount });
          if (payload.slow) await pause(1200);
          if (payload.flaky && message.attempt < 3) throw new Error('transient');
        },
        { concurrency: 2, retry: { maxAttempts: 3, initialDelayMs: 500, jitter: 'none' } },
      )
      .ready();
    await b.publish(t, { slow: true });
    await b.publish(t, { flaky: true });
    await expect.poll(() => seen.length, wait).toBe(4);
    await pause(1000);
    expect(seen).toHaveLength(4);
    expect(seen.every((entry) => entry.deliveryCount === 1)).toBe(true);
    expect(seen.filter((entry) => (entry.payload as { flaky?: boolean }).flaky).map((entry) => entry.attempt)).toEqual([
      1, 2, 3,
    ]);
  });

  it('gives back what a closing consumer held to the next one, once each time, as a redelivery and long before AckWait', async () => {
    // AckWait far above the deadline of each round: a message that only AckWait brings back fails it.
    const b = await bus({ ackWaitMs: 120_000 });
    const t = topic('hand-back');
    const rounds: { payload: unknown; deliveryCount: number }[][] = [];
    for (let round = 0; round < 8; round++) {
      let release!: () => void;
      const hang = new Promise<void>((resolve) => (release = resolve));
      const held: unknown[] = [];
      const closing = b.subscribe(
        t,
        async (payload) => {
          held.push(payload);
          await hang;
        },
        { group: 'relay' },
      );
      await closing.ready();
      await b.publish(t, { round });
      await expect.poll(() => held.length, wait).toBe(1);
      // The handler never finishes: the close gives its message back unacknowledged.
      await closing.close({ timeoutMs: 10 });
      release();
      const next: { payload: unknown; deliveryCount: number }[] = [];
      const taking = b.subscribe(
        t,
        (payload, message) => void next.push({ payload, deliveryCount: message.deliveryCount }),
        {
          group: 'relay',
        },
      );
      await taking.ready();
      await expect.poll(() => next.length, wait).toBeGreaterThan(0);
      // Room for a wrong second delivery (the message resent as new) to show.
      await pause(700);
      await taking.close();
      rounds.push(next);
    }
    for (const [round, next] of rounds.entries()) {
      expect(next).toHaveLength(1);
      expect(next[0]?.payload).toEqual({ round });
      expect(next[0]?.deliveryCount).toBeGreaterThan(1);
    }
  });

  it('reports the lag of a group while none of its consumers runs, from the consumer info', async () => {
    const b = await bus();
    const t = topic('lag');
    const gone = b.subscribe(t, () => undefined, { group: 'late' });
    await gone.ready();
    await gone.close();
    for (let i = 0; i < 5; i++) await b.publish(t, { i });
    expect(await b.adapter.backlog(t, 'late')).toEqual({ pending: 0, lag: 5 });
    expect(await b.adapter.backlog(t, 'never-subscribed')).toEqual({ pending: 0, lag: null });
    expect(await b.adapter.backlog(topic('no-stream'), 'late')).toEqual({ pending: 0, lag: 0 });
  });

  it('reports a message delivered again and again as a problem (health warns) until it is acknowledged', async () => {
    const adapter = await createNatsAdapter({ servers, streamPrefix: `${run}_`, subjectPrefix: run, ackWaitMs: 500 });
    const b = new MessageBus({ adapter, lagIntervalMs: 0 });
    buses.push(b);
    const t = topic('stuck');
    const first = b.subscribe(t, () => undefined, { group: 'crashy' });
    await first.ready();
    await first.close();
    await b.publish(t, { stuck: true });
    // Four consumers that took the message and died before acknowledging it, as a crash loop does.
    const { jetstream } = await import('@nats-io/jetstream');
    const raw = jetstream(adapter.connection).consumers;
    const consumer = await raw.get(adapter.streamName(t), adapter.consumerName('crashy'));
    for (let delivery = 1; delivery <= 4; delivery++) {
      const msg = await consumer.next({ expires: 5000 });
      expect(msg?.info.deliveryCount).toBe(delivery);
      msg?.nak();
    }
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const counts: number[] = [];
    await b
      .subscribe(
        t,
        async (_payload, message) => {
          counts.push(message.deliveryCount);
          await gate;
        },
        { group: 'crashy' },
      )
      .ready();
    await expect.poll(() => counts, wait).toEqual([5]);
    expect(adapter.problems()).toEqual([expect.stringMatching(/delivered 5 times without an acknowledgement/)]);
    expect(await b.healthCheck()).toMatchObject({
      status: 'warn',
      output: expect.stringContaining('delivered 5 times'),
    });
    release();
    await expect.poll(() => adapter.problems(), wait).toEqual([]);
  });

  it('creates a stream whose messages expire sooner than the default duplicate window', async () => {
    const b = await bus({ maxAgeMs: 60_000 });
    const t = topic('short-lived');
    const got: unknown[] = [];
    await b.subscribe(t, (payload) => void got.push(payload)).ready();
    await b.publish(t, { n: 1 });
    await expect.poll(() => got, wait).toEqual([{ n: 1 }]);
  });

  it('refuses a topic that is not a NATS subject with a coded error naming it', async () => {
    const b = await bus();
    await expect(b.publish('a..b', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', option: 'topic' });
    expect(() => b.subscribe('a.b.', () => undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', option: 'topic' }),
    );
  });

  it('uses an injected connection and leaves it open on close; close is idempotent', async () => {
    const connection = await connect({ servers: servers ?? '' });
    try {
      const adapter = await createNatsAdapter({ connection, streamPrefix: `${run}_`, subjectPrefix: run });
      await adapter.ping();
      await adapter.close();
      await adapter.close();
      expect(connection.isClosed()).toBe(false);
      await expect(adapter.ping()).rejects.toMatchObject({ code: 'CLOSED' });
    } finally {
      await connection.close();
    }
  });

  it('closes the connection it created', async () => {
    const adapter = await createNatsAdapter({ servers, streamPrefix: `${run}_`, subjectPrefix: run });
    await adapter.close({ timeoutMs: 1000 });
    expect(adapter.connection.isClosed()).toBe(true);
  });

  it('fails with ADAPTER_UNAVAILABLE when no server answers', async () => {
    const { closedPort } = await import('@infra/test-utils');
    const port = await closedPort();
    await expect(
      createNatsAdapter({ servers: `127.0.0.1:${String(port)}`, connectTimeoutMs: 500 }),
    ).rejects.toMatchObject({ code: 'ADAPTER_UNAVAILABLE', isRetryable: true });
  });
});
