import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildIfStale, rabbitMqUrl, startTcpProxy, uniqueName, type TcpProxy } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopologyRecorder } from '../../test/rabbitmq-topology.js';
import { FaultBuses, healthStatus as status, inBackground, pause, publishRetrying } from '../../test/fault-kit.js';
import type { MessageBus } from '../message-bus.js';
import { createRabbitMqAdapter } from './rabbitmq-adapter.js';
import type { RabbitMqAdapterOptions } from './rabbitmq-options.js';

const url = rabbitMqUrl('RabbitMQ adapter fault tests');
const wait = { timeout: 60_000, interval: 50 };

/** Publishes `count` messages `{ seq }`, retrying each until RabbitMQ confirms it. */
const publishAll = (b: MessageBus, topic: string, count: number, from = 0): Promise<string[]> =>
  publishRetrying(b, topic, count, {
    from,
    options: (seq) => ({ key: `k${String(seq % 4)}` }),
    code: 'PUBLISH_FAILED',
  });

describe.skipIf(!url)('RabbitMQ adapter under faults', () => {
  const amqpUrl = url as string;
  const topology = new TopologyRecorder();
  const exchangePrefix = `${uniqueName('messaging_rabbitmq_faults')}.`;
  const faults = new FaultBuses();
  const { connectionErrors } = faults;
  let proxy: TcpProxy;
  let viaProxy: string;

  async function bus(options: RabbitMqAdapterOptions = {}): Promise<MessageBus> {
    const adapter = topology.track(
      await createRabbitMqAdapter({
        url: viaProxy,
        exchangePrefix,
        heartbeatMs: 1000,
        connectTimeoutMs: 1000,
        commandTimeoutMs: 1000,
        publishTimeoutMs: 2000,
        reconnectDelayMs: 50,
        maxReconnectDelayMs: 500,
        ...options,
      }),
    );
    return faults.bus(adapter);
  }

  beforeAll(async () => {
    const target = new URL(amqpUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5672) });
    target.port = String(proxy.port);
    viaProxy = target.toString();
  });

  afterAll(async () => {
    await faults.close(500);
    await proxy.close();
    await topology.deleteAll(amqpUrl);
  });

  it('connection cut: health fails, publishes fail retryably, then everything recovers and nothing is lost', async () => {
    const b = await bus();
    const topic = 'cut';
    const handled = new Set<number>();
    await b.subscribe(topic, (payload: { seq: number }) => void handled.add(payload.seq), { group: 'g' }).ready();
    await publishAll(b, topic, 20);
    await expect.poll(() => handled.size, wait).toBe(20);
    expect(await status(b)).toBe('pass');

    await proxy.cut();
    await expect.poll(() => status(b), wait).toBe('fail');
    expect((await b.healthCheck()).output).toMatch(/RabbitMQ/);
    const started = Date.now();
    await expect(b.publish(topic, { seq: -1 })).rejects.toMatchObject({ code: 'PUBLISH_FAILED', isRetryable: true });
    // Bounded by connectTimeoutMs (waiting for a reconnection), with room for a busy machine.
    expect(Date.now() - started).toBeLessThan(1000 + 5000);

    await proxy.restore();
    await publishAll(b, topic, 100, 20);
    await expect.poll(() => handled.size, wait).toBe(120);
    await expect.poll(() => status(b), wait).toBe('pass');
    expect(connectionErrors.length).toBeGreaterThan(0);
  }, 120_000);

  it('connection cut mid-stream: deliveries not acknowledged come again, none is lost', async () => {
    const b = await bus({ prefetch: 20 });
    const topic = 'cut.midstream';
    const deliveries: number[] = [];
    await b
      .subscribe(
        topic,
        async (payload: { seq: number }) => {
          deliveries.push(payload.seq);
          await pause(5);
        },
        { group: 'g', concurrency: 4 },
      )
      .ready();
    await publishAll(b, topic, 300);
    await expect.poll(() => deliveries.length, wait).toBeGreaterThan(50);
    await proxy.cut();
    await pause(300);
    await proxy.restore();
    await expect.poll(() => new Set(deliveries).size, wait).toBe(300);
    await pause(500);
    const duplicates = deliveries.length - 300;
    // Redelivered: at most what was handed out or buffered when the connection dropped.
    expect(duplicates).toBeLessThanOrEqual(20 + 4);
    const backlog = await b.healthCheck();
    expect(backlog.subscriptions.find((s) => s.topic === topic)).toMatchObject({ lag: 0, pending: 0 });
  }, 120_000);

  it('connection stalled: publishes time out retryably, nothing hangs, and it recovers', async () => {
    const b = await bus();
    const topic = 'stalled';
    const handled = new Set<number>();
    await b.subscribe(topic, (payload: { seq: number }) => void handled.add(payload.seq), { group: 'g' }).ready();
    proxy.blackhole();
    try {
      const started = Date.now();
      await expect(b.publish(topic, { seq: -1 })).rejects.toMatchObject({ code: 'PUBLISH_FAILED', isRetryable: true });
      expect(Date.now() - started).toBeLessThan(2000 + 5000);
      // The heartbeat (1 s) finds the stalled connection dead: health fails without waiting on it.
      await expect.poll(() => status(b), wait).toBe('fail');
    } finally {
      await proxy.restore();
    }
    await publishAll(b, topic, 30);
    await expect.poll(() => [...handled].filter((seq) => seq >= 0).length, wait).toBe(30);
    await expect.poll(() => status(b), wait).toBe('pass');
  }, 120_000);

  it('closes within its deadline while the connection is stalled', async () => {
    const b = await bus();
    await b.subscribe('stalled.close', () => undefined, { group: 'g' }).ready();
    proxy.blackhole();
    try {
      const started = Date.now();
      await b.close({ timeoutMs: 500 });
      expect(b.closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(500 * 4 + 5000);
    } finally {
      await proxy.restore();
    }
  }, 60_000);

  it('a poison message is dead-lettered to the .dlq topic while the messages around it flow', async () => {
    const b = await bus();
    const topic = 'poison';
    const handled = new Set<number>();
    const dead: { seq: number; headers: Record<string, string> }[] = [];
    await b
      .subscribe(`${topic}.dlq`, (payload: { seq: number }, message) => {
        dead.push({ seq: payload.seq, headers: { ...message.headers } });
      })
      .ready();
    await b
      .subscribe(
        topic,
        (payload: { seq: number }) => {
          if (payload.seq === 13) throw new Error('cannot digest 13');
          handled.add(payload.seq);
        },
        { group: 'g', retry: { maxAttempts: 3, initialDelayMs: 5, jitter: 'none' } },
      )
      .ready();
    await publishAll(b, topic, 50);
    await expect.poll(() => handled.size, wait).toBe(49);
    await expect.poll(() => dead.length, wait).toBe(1);
    expect(dead[0]).toMatchObject({
      seq: 13,
      headers: { 'x-attempts': '3', 'x-error': 'cannot digest 13', 'x-dead-letter-reason': 'handler' },
    });
    await expect
      .poll(async () => (await b.healthCheck()).subscriptions.find((s) => s.topic === topic), wait)
      .toMatchObject({ lag: 0, pending: 0 });
  }, 60_000);

  describe('a consumer process killed with SIGKILL', () => {
    const children: ChildProcess[] = [];
    beforeAll(() => {
      buildIfStale(fileURLToPath(new URL('../..', import.meta.url)), 'rabbitmq/index.js');
    }, 120_000);
    afterAll(() => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    });

    it('its unacknowledged messages go to the other consumer of the group; duplicates stay within its prefetch', async () => {
      const b = await bus();
      const topic = 'killed.consumer';
      const group = 'workers';
      const prefetch = 50;
      const handledHere: number[] = [];
      const handledThere: number[] = [];
      const heldThere: number[] = [];
      let redelivered = 0;
      // Created first, so that the queue exists before anything is published.
      const script = fileURLToPath(new URL('../../test-fixtures/rabbitmq-consumer.mjs', import.meta.url));
      // It hangs after 100 messages, and is killed once it holds one: the kill always finds deliveries it
      // holds unacknowledged.
      const child = fork(script, [amqpUrl, exchangePrefix, topic, group, String(prefetch), '100'], {
        stdio: 'inherit',
      });
      children.push(child);
      const exited = new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.on('message', (message: { ready?: boolean; handled?: number; holding?: number }) => {
          if (message.ready) resolve();
          if (message.handled !== undefined) handledThere.push(message.handled);
          if (message.holding !== undefined) heldThere.push(message.holding);
        });
        child.once('exit', (code) => {
          reject(new Error(`consumer exited early (${String(code)})`));
        });
      });
      topology.exchanges.add(`${exchangePrefix}${topic}`);
      topology.queues.add(`${exchangePrefix}${topic}@${group}`);
      await b
        .subscribe(
          topic,
          async (payload: { seq: number }, message) => {
            handledHere.push(payload.seq);
            if (message.deliveryCount > 1) redelivered += 1;
            await pause(2);
          },
          { group, concurrency: 8, maxInFlight: 32 },
        )
        .ready();
      const total = 2000;
      // Published in batches while both consume: the kill lands mid-stream, with deliveries in flight.
      const publishing = inBackground(
        (async () => {
          for (let from = 0; from < total; from += 100) {
            const batch = Array.from({ length: 100 }, (_, i) => ({ topic, payload: { seq: from + i } }));
            await b.publishBatch(batch);
          }
        })(),
      );
      await expect.poll(() => handledThere.length, wait).toBe(100);
      await expect.poll(() => heldThere.length, wait).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await exited;
      const killedAt = handledThere.length;
      await publishing;
      expect(killedAt).toBeLessThan(total / 2);
      const distinct = (): number => new Set([...handledHere, ...handledThere]).size;
      await expect.poll(distinct, wait).toBe(total);
      await pause(500);
      const duplicates = handledHere.length + handledThere.length - total;
      console.log(
        `SIGKILL: ${String(handledThere.length)} handled by the killed consumer, ${String(handledHere.length)} by the other (${String(redelivered)} redelivered), ${String(duplicates)} duplicates`,
      );
      // What the killed consumer held unacknowledged came to the other one, marked as delivered before;
      // only those (at most its prefetch) can have been handled twice.
      expect(redelivered).toBeGreaterThan(0);
      for (const seq of heldThere) expect(handledHere).toContain(seq);
      expect(redelivered).toBeLessThanOrEqual(prefetch);
      expect(duplicates).toBeLessThanOrEqual(redelivered);
    }, 120_000);
  });
});
