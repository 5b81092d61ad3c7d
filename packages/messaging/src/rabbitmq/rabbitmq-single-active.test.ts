import { rabbitMqUrl, uniqueName } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { inBackground, pause } from '../../test/fault-kit.js';
import { TopologyRecorder } from '../../test/rabbitmq-topology.js';
import { MessageBus } from '../message-bus.js';
import { createRabbitMqAdapter } from './rabbitmq-adapter.js';

const url = rabbitMqUrl('RabbitMQ adapter single active consumer');
const wait = { timeout: 30_000, interval: 20 };

// The contract suite checks per-key order across a group only for adapters that also share a group
// between consumers; with `singleActiveConsumer` the group has one active consumer and standbys,
// so this checks the order it promises across them, through a failover.
describe.skipIf(!url)('RabbitMQ adapter with single active consumers', () => {
  const topology = new TopologyRecorder();
  const exchangePrefix = `${uniqueName('messaging_rabbitmq_sac')}.`;
  const buses: MessageBus[] = [];
  const bus = async (): Promise<MessageBus> => {
    const adapter = topology.track(await createRabbitMqAdapter({ url, exchangePrefix, singleActiveConsumer: true }));
    const created = new MessageBus({ adapter, lagIntervalMs: 0 });
    buses.push(created);
    return created;
  };

  afterAll(async () => {
    await Promise.all(buses.map((created) => created.close({ timeoutMs: 500 })));
    await topology.deleteAll(url as string);
  });

  it('keeps per-key order across the consumers of a group, through the active one leaving', async () => {
    const [first, second, publisher] = [await bus(), await bus(), await bus()];
    const topic = 'ordered';
    const handled: { key: string; seq: number; by: string }[] = [];
    const handler = (by: string) => async (payload: { key: string; seq: number }) => {
      handled.push({ key: payload.key, seq: payload.seq, by });
      await pause(Math.floor(Math.random() * 3));
    };
    const settings = { group: 'ordered', concurrency: 4 };
    const active = first.subscribe(topic, handler('first'), settings);
    await active.ready();
    await second.subscribe(topic, handler('second'), settings).ready();
    const keys = ['a', 'b', 'c'];
    const publishing = inBackground(
      (async () => {
        for (let seq = 0; seq < 60; seq++) {
          for (const key of keys) await publisher.publish(topic, { key, seq }, { key });
        }
      })(),
    );
    await expect.poll(() => handled.length, wait).toBeGreaterThan(30);
    // Only the active consumer receives anything.
    expect(handled.filter((entry) => entry.by === 'second')).toEqual([]);
    await active.close({ timeoutMs: 5000 });
    await publishing;
    const distinct = (): number => new Set(handled.map((entry) => `${entry.key}/${String(entry.seq)}`)).size;
    await expect.poll(distinct, wait).toBe(180);
    expect(handled.some((entry) => entry.by === 'second')).toBe(true);
    for (const key of keys) {
      // First deliveries in publish order; a message returned by the leaving consumer may come again.
      const seen = new Set<number>();
      const order = handled.filter((entry) => entry.key === key && !seen.has(entry.seq) && seen.add(entry.seq));
      expect(order.map((entry) => entry.seq)).toEqual([...Array(60).keys()]);
    }
  }, 60_000);
});
