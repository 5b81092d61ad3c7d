import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  buildIfStale,
  eventually,
  startPrivateNats,
  startTcpProxy,
  uniqueName,
  type PrivateNats,
} from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { FaultBuses, healthStatus as status, pause, publishRetrying } from '../../test/fault-kit.js';
import type { MessageBus } from '../message-bus.js';
import { createNatsAdapter } from './nats-adapter.js';
import type { NatsAdapterOptions } from './nats-options.js';

// Faults run against a nats-server of this file's own: the shared one is never stopped or touched.
let server: PrivateNats;
let consoleError: MockInstance<typeof console.error>;
const faults = new FaultBuses();
const { connectionErrors } = faults;
const children: ChildProcess[] = [];
const wait = { timeout: 60_000, interval: 50 };
const run = uniqueName('nats_faults');
let n = 0;
const topicName = (label: string): string => `${label}.${String(++n)}`;

async function bus(options: NatsAdapterOptions = {}, group = 'g'): Promise<MessageBus> {
  const adapter = await createNatsAdapter({
    servers: server.servers,
    streamPrefix: `${run}_`,
    subjectPrefix: run,
    ackWaitMs: 2000,
    fetchWaitMs: 500,
    requestTimeoutMs: 1000,
    ...options,
  });
  return faults.bus(adapter, { group, healthTimeoutMs: 1500 });
}

/**
 * Publishes `count` messages `{ seq }`, retrying each until JetStream stores it; returns the ids
 * stored. One id per message across retries: a retry of a publish JetStream did store is dropped as
 * a duplicate.
 */
const publishAll = (b: MessageBus, topic: string, count: number, from = 0): Promise<string[]> =>
  publishRetrying(b, topic, count, { from, options: (seq) => ({ id: `${topic}-${String(seq)}` }) });

beforeAll(async () => {
  consoleError = vi.spyOn(console, 'error');
  server = await startPrivateNats();
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await faults.close(500);
  await server.close();
  // Every failure went to the bus's events: the client printed nothing.
  const printed = consoleError.mock.calls.map((args) => args.map(String).join(' '));
  consoleError.mockRestore();
  expect(printed).toEqual([]);
});

describe('nats jetstream under faults', () => {
  it('loses nothing when the server is killed mid-stream and restarted with its storage', async () => {
    const b = await bus();
    const topic = topicName('restart.kept');
    const handled = new Set<string>();
    let deliveries = 0;
    await b
      .subscribe(
        topic,
        async (_payload, message) => {
          deliveries += 1;
          handled.add(message.id);
          await pause(5);
        },
        { maxInFlight: 10 },
      )
      .ready();
    const before = await publishAll(b, topic, 200);
    await eventually(() => handled.size >= 20, 30_000);
    expect(await status(b)).toBe('pass');
    // JetStream writes what it acknowledged to its files asynchronously, within milliseconds: a kill
    // at once could lose the newest messages, as on any server without synchronous writes.
    await pause(200);

    await server.kill();
    expect(handled.size).toBeLessThan(200);
    await expect.poll(() => status(b), wait).toBe('fail');
    await server.restart();
    const after = await publishAll(b, topic, 50, 200);
    await expect.poll(() => [...before, ...after].filter((id) => handled.has(id)).length, wait).toBe(250);
    await expect.poll(() => status(b), wait).toBe('pass');
    expect(connectionErrors.length).toBeGreaterThan(0);
    console.info(`[nats] killed and restarted with storage: 250 handled, ${String(deliveries - 250)} twice`);
  }, 120_000);

  it('recovers when the server comes back with its storage wiped: stream and consumer are created again', async () => {
    const b = await bus();
    const topic = topicName('restart.wiped');
    const handled = new Set<string>();
    await b.subscribe(topic, (_payload, message) => void handled.add(message.id)).ready();
    const before = await publishAll(b, topic, 20);
    await expect.poll(() => before.filter((id) => handled.has(id)).length, wait).toBe(20);

    await server.kill();
    await expect.poll(() => status(b), wait).toBe('fail');
    await server.restart({ wipeStorage: true });
    // Published into a stream created again by the publisher, before the consumer noticed its consumer is gone.
    const after = await publishAll(b, topic, 100, 20);
    await expect.poll(() => after.filter((id) => handled.has(id)).length, wait).toBe(100);
    await expect.poll(() => status(b), wait).toBe('pass');
    const health = await b.healthCheck();
    expect(health.subscriptions[0]).toMatchObject({ pending: 0, lag: 0 });
  }, 120_000);

  it('resumes after its connections are cut, reports it, and fails health while cut', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const b = await bus({ servers: proxy.address });
      const errorsBefore = connectionErrors.length;
      const topic = topicName('cut');
      const handled = new Set<string>();
      await b.subscribe(topic, (_payload, message) => void handled.add(message.id)).ready();
      const first = await publishAll(b, topic, 10);
      await expect.poll(() => first.filter((id) => handled.has(id)).length, wait).toBe(10);

      await proxy.cut();
      await expect.poll(() => status(b), wait).toBe('fail');
      const started = Date.now();
      await expect(b.publish(topic, { seq: -1 })).rejects.toMatchObject({ isRetryable: true });
      // Within requestTimeoutMs (1 s), with room for a busy machine: nothing waits for the server.
      expect(Date.now() - started).toBeLessThan(1_000 + 5_000);
      expect(connectionErrors.length).toBeGreaterThan(errorsBefore);

      await proxy.restore();
      await expect.poll(() => status(b), wait).toBe('pass');
      // The fetch that was waiting when the connection dropped was replaced: consuming goes on.
      const second = await publishAll(b, topic, 50, 10);
      await expect.poll(() => second.filter((id) => handled.has(id)).length, wait).toBe(50);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('fails health while the server stalls (connections open, nothing answers), and passes after', async () => {
    const b = await bus();
    const topic = topicName('stalled');
    const handled: number[] = [];
    await b.subscribe(topic, (payload: { seq: number }) => void handled.push(payload.seq)).ready();
    await server.pause();
    try {
      const started = Date.now();
      await expect(b.publish(topic, { seq: -1 })).rejects.toMatchObject({ isRetryable: true });
      expect(Date.now() - started).toBeLessThan(1_000 + 5_000);
      expect(await b.healthCheck()).toMatchObject({ status: 'fail', connected: false });
    } finally {
      server.resume();
    }
    await expect.poll(() => status(b), wait).toBe('pass');
    await publishAll(b, topic, 10, 0);
    await expect.poll(() => handled.filter((seq) => seq >= 0).length, wait).toBe(10);
  }, 120_000);

  it('gives the unacknowledged messages of a consumer killed with SIGKILL to the other after AckWait', async () => {
    buildIfStale(fileURLToPath(new URL('../..', import.meta.url)), 'nats/index.js');
    const ackWaitMs = 1500;
    const survivor = await bus({ ackWaitMs }, 'replicas');
    const topic = topicName('sigkill');
    const handled: { seq: number; by: string; deliveryCount: number }[] = [];
    await survivor
      .subscribe(
        topic,
        async (payload: { seq: number }, message) => {
          handled.push({ seq: payload.seq, by: 'survivor', deliveryCount: message.deliveryCount });
          await pause(5);
        },
        { concurrency: 4, maxInFlight: 20 },
      )
      .ready();
    const script = fileURLToPath(new URL('../../test-fixtures/nats-consumer.mjs', import.meta.url));
    // It hangs after 20 messages, and is killed once it holds one: the kill always finds messages it
    // holds unacknowledged.
    const child = fork(script, [server.servers, `${run}_`, run, 'replicas', topic, String(ackWaitMs), '20'], {
      stdio: 'inherit',
    });
    children.push(child);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    let byChild = 0;
    const heldByChild: number[] = [];
    await new Promise<void>((resolve, reject) => {
      type Report = { ready?: boolean; handled?: { seq: number; deliveryCount: number }; holding?: number };
      child.on('message', (message: Report) => {
        if (message.ready) resolve();
        if (message.handled) {
          byChild += 1;
          handled.push({ ...message.handled, by: 'child' });
        }
        if (message.holding !== undefined) heldByChild.push(message.holding);
      });
      void exited.then(() => {
        reject(new Error('the consumer child exited before it was ready'));
      });
    });
    let total = 300;
    await publishAll(survivor, topic, total);
    await eventually(() => byChild >= 20, 60_000);
    // The survivor may have drained the topic meanwhile: more messages until the child holds one.
    while (heldByChild.length === 0 && total < 1000) {
      await publishAll(survivor, topic, 20, total);
      total += 20;
      await pause(100);
    }
    expect(heldByChild.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await exited;
    await expect.poll(() => new Set(handled.map((h) => h.seq)).size, wait).toBe(total);
    const duplicates = handled.length - total;
    const redelivered = handled.filter((h) => h.by === 'survivor' && h.deliveryCount > 1);
    console.info(
      `[nats] SIGKILL of a consumer: ${String(byChild)} handled by it, ${String(redelivered.length)} redelivered ` +
        `to the other after AckWait, ${String(duplicates)} handled twice`,
    );
    // The child held up to maxInFlight (20) unacknowledged messages when it died: those come back,
    // some of them handled already (their acknowledgement was not sent yet): the only duplicates.
    expect(redelivered.length).toBeGreaterThan(0);
    for (const seq of heldByChild) expect(redelivered.map((h) => h.seq)).toContain(seq);
    expect(redelivered.length).toBeLessThanOrEqual(20);
    expect(duplicates).toBeLessThanOrEqual(20);
  }, 180_000);

  it('dead-letters a poison message after its attempts and keeps consuming; JetStream does not redeliver it', async () => {
    const b = await bus({ ackWaitMs: 500 });
    const topic = topicName('poison');
    const dead: { id: string; headers: Readonly<Record<string, string>> }[] = [];
    const attempts: number[] = [];
    const handled: number[] = [];
    await b.subscribe(`${topic}.dlq`, (_payload, message) => void dead.push(message)).ready();
    await b
      .subscribe(
        topic,
        (payload: { seq: number }, message) => {
          if (payload.seq === 3) {
            attempts.push(message.attempt);
            throw new Error('cannot digest');
          }
          handled.push(payload.seq);
        },
        { retry: { maxAttempts: 3, initialDelayMs: 300, jitter: 'none' } },
      )
      .ready();
    const ids = await publishAll(b, topic, 10);
    await expect.poll(() => dead.length === 1 && handled.length === 9, wait).toBe(true);
    // Longer than AckWait: a message the bus dead-lettered and acknowledged is not delivered again.
    await pause(1500);
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      id: ids[3],
      headers: { 'x-attempts': '3', 'x-error': 'cannot digest', 'x-original-topic': topic },
    });
    await expect
      .poll(async () => (await b.healthCheck()).subscriptions.map((s) => s.pending + (s.lag ?? 0)), wait)
      .toEqual([0, 0]);
  }, 60_000);
});
