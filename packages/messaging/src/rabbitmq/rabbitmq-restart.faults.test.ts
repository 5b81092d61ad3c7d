import { rabbitMqUrl, startPrivateRabbitMq, type PrivateRabbitMq } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultBuses, healthStatus as status, inBackground, publishRetrying } from '../../test/fault-kit.js';
import type { MessageBus } from '../message-bus.js';
import { createRabbitMqAdapter } from './rabbitmq-adapter.js';
import type { RabbitMqAdapterOptions } from './rabbitmq-options.js';

// Killed and restarted: a RabbitMQ node of this file's own, never the shared server. It runs only
// where the shared one does (RABBITMQ_URL), as the same installation starts both.
const shared = rabbitMqUrl('RabbitMQ adapter restart tests (private node)');
const wait = { timeout: 90_000, interval: 100 };

/** Publishes `{ seq }` from `from`, retrying each until RabbitMQ confirms it. */
const publishAll = (b: MessageBus, topic: string, count: number, from = 0): Promise<string[]> =>
  publishRetrying(b, topic, count, { from, code: 'PUBLISH_FAILED', retryMs: 100 });

describe.skipIf(!shared)('RabbitMQ adapter with its server killed and restarted', () => {
  let node: PrivateRabbitMq;
  const faults = new FaultBuses();
  const { connectionErrors } = faults;

  /** An adapter on the private node, with deadlines short enough for a test to see it fail and recover. */
  function adapter(options: RabbitMqAdapterOptions = {}): ReturnType<typeof createRabbitMqAdapter> {
    return createRabbitMqAdapter({
      url: node.url,
      heartbeatMs: 1000,
      connectTimeoutMs: 1000,
      commandTimeoutMs: 2000,
      publishTimeoutMs: 3000,
      reconnectDelayMs: 100,
      maxReconnectDelayMs: 1000,
      ...options,
    });
  }

  async function bus(options: RabbitMqAdapterOptions = {}): Promise<MessageBus> {
    return busOn(await adapter(options));
  }

  function busOn(on: Awaited<ReturnType<typeof adapter>>): MessageBus {
    return faults.bus(on, { healthTimeoutMs: 2000 });
  }

  beforeAll(async () => {
    node = await startPrivateRabbitMq();
  }, 120_000);

  afterAll(async () => {
    await faults.close(500);
    await node.close();
  }, 60_000);

  // Classic queues here; quorum queues in the next test. RabbitMQ writes the registry of its quorum
  // queues to disk lazily: one declared moments before a SIGKILL comes back empty and never confirms.
  it('SIGKILL and restart with its data: confirmed messages survive, publishes fail retryably meanwhile, consumers recover', async () => {
    const b = await bus({ queueType: 'classic' });
    const topic = 'restart.kept';
    const handled = new Set<number>();
    await b.subscribe(topic, (payload: { seq: number }) => void handled.add(payload.seq), { group: 'live' }).ready();
    // A group whose consumer is away: what is confirmed for it must be there after the crash.
    const away = b.subscribe(topic, () => undefined, { group: 'away' });
    await away.ready();
    await away.close();
    await publishAll(b, topic, 50);
    await expect.poll(() => handled.size, wait).toBe(50);
    expect(await status(b)).toBe('pass');

    await node.kill();
    await expect.poll(() => status(b), wait).toBe('fail');
    await expect(b.publish(topic, { seq: -1 })).rejects.toMatchObject({ code: 'PUBLISH_FAILED', isRetryable: true });
    await node.restart();
    await expect.poll(() => status(b), wait).toBe('pass');
    await publishAll(b, topic, 50, 50);
    await expect.poll(() => handled.size, wait).toBe(100);

    const kept = new Set<number>();
    await b.subscribe(topic, (payload: { seq: number }) => void kept.add(payload.seq), { group: 'away' }).ready();
    await expect.poll(() => kept.size, wait).toBe(100);
    expect(connectionErrors.length).toBeGreaterThan(0);
  }, 240_000);

  it('quorum queues, SIGKILL mid-stream and restart with their data: every confirmed message is handled, and reaches a group that was away', async () => {
    const prefetch = 20;
    const quorum = await adapter({ prefetch });
    expect(quorum.queueType).toBe('quorum');
    const b = busOn(quorum);
    const topic = 'restart.quorum';
    const handled = new Set<number>();
    let handledTimes = 0;
    const live = (payload: { seq: number }): void => {
      handled.add(payload.seq);
      handledTimes += 1;
    };
    await b.subscribe(topic, live, { group: 'live' }).ready();
    const away = b.subscribe(topic, () => undefined, { group: 'away' });
    await away.ready();
    await away.close();
    await publishAll(b, topic, 20);
    await expect.poll(() => handled.size, wait).toBe(20);
    // Queues that have been there a while: a clean stop and start writes their registration out, as
    // time does for the queues of a running service.
    node.ctl('stop');
    await node.restart();
    await expect.poll(() => status(b), wait).toBe('pass');

    // Mid-stream: the node dies while messages are being published and consumed.
    let publishedAll = false;
    const publishing = inBackground(
      publishAll(b, topic, 60, 20).then(() => {
        publishedAll = true;
      }),
    );
    await expect.poll(() => handled.size, wait).toBeGreaterThanOrEqual(30);
    await node.kill();
    expect(publishedAll).toBe(false);
    await node.restart();
    await publishing;
    await expect.poll(() => handled.size, wait).toBe(80);
    expect([...handled].sort((x, y) => x - y)).toEqual(Array.from({ length: 80 }, (_, seq) => seq));
    // A message handled twice is one whose acknowledgement the crash lost: at most those in flight.
    expect(handledTimes - handled.size).toBeLessThanOrEqual(prefetch);

    const kept = new Set<number>();
    await b.subscribe(topic, (payload: { seq: number }) => void kept.add(payload.seq), { group: 'away' }).ready();
    await expect.poll(() => kept.size, wait).toBe(80);
  }, 300_000);

  it('a memory alarm blocks publishing: health names it, publishes fail retryably, and both recover once it lifts', async () => {
    const b = await bus();
    const topic = 'alarm';
    const handled = new Set<number>();
    await b.subscribe(topic, (payload: { seq: number }) => void handled.add(payload.seq), { group: 'g' }).ready();
    await publishAll(b, topic, 5);
    node.ctl('set_vm_memory_high_watermark', '0.0000001');
    try {
      // RabbitMQ blocks a connection when it next publishes during the alarm.
      await expect(b.publish(topic, { seq: -1 })).rejects.toMatchObject({ code: 'PUBLISH_FAILED', isRetryable: true });
      // Publishing goes on meanwhile, as in a service: the connection that publishes is the one blocked.
      await expect
        .poll(() => {
          void b.publish(topic, { seq: -1 }).catch(() => undefined);
          return b.healthCheck();
        }, wait)
        .toMatchObject({ status: 'fail', output: expect.stringMatching(/blocked publishing/) });
    } finally {
      node.ctl('set_vm_memory_high_watermark', '0.4');
    }
    await expect.poll(() => status(b), wait).toBe('pass');
    await publishAll(b, topic, 5, 5);
    await expect.poll(() => [...handled].filter((seq) => seq >= 0).length, wait).toBe(10);
  }, 240_000);

  it('restart with its data lost: exchange and queues are declared again and consuming resumes', async () => {
    const b = await bus();
    const topic = 'restart.lost';
    const handled = new Set<number>();
    await b.subscribe(topic, (payload: { seq: number }) => void handled.add(payload.seq), { group: 'g' }).ready();
    await publishAll(b, topic, 20);
    await expect.poll(() => handled.size, wait).toBe(20);

    await node.restart({ dataLost: true });
    // Health passes once every consumer consumes again, on a queue it declared again.
    await expect.poll(() => status(b), wait).toBe('pass');
    await publishAll(b, topic, 30, 20);
    await expect.poll(() => handled.size, wait).toBe(50);
  }, 240_000);
});
