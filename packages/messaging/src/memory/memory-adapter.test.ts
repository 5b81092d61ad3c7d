import { eventually, messageBusContract } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { MemoryAdapter } from './memory-adapter.js';

messageBusContract({
  name: 'memory',
  create: ({ claimIdleMs }) => new MessageBus({ adapter: new MemoryAdapter({ claimIdleMs }), lagIntervalMs: 0 }),
  capabilities: new MemoryAdapter().capabilities,
});

describe('memory adapter', () => {
  it('gives a message whose handler hangs to another consumer after claimIdleMs, closing nothing', async () => {
    const adapter = new MemoryAdapter({ claimIdleMs: 50 });
    const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
    let release!: () => void;
    const hang = new Promise<void>((resolve) => (release = resolve));
    try {
      const hung: string[] = [];
      await bus
        .subscribe(
          't',
          async (_payload, message) => {
            hung.push(message.id);
            await hang;
          },
          { group: 'g' },
        )
        .ready();
      const { id } = await bus.publish('t', { n: 1 });
      await eventually(() => hung.length === 1);
      const healthy: { id: string; deliveryCount: number }[] = [];
      await bus
        .subscribe(
          't',
          (_payload, message) => void healthy.push({ id: message.id, deliveryCount: message.deliveryCount }),
          { group: 'g' },
        )
        .ready();
      await eventually(() => healthy.length === 1);
      // The hung consumer may take it back once in between: it is still fetching.
      expect(healthy[0]?.id).toBe(id);
      expect(healthy[0]?.deliveryCount).toBeGreaterThanOrEqual(2);
    } finally {
      release();
      await bus.close({ timeoutMs: 10 });
    }
  });

  it('drops the oldest undelivered message past maxLen and validates its options', async () => {
    const adapter = new MemoryAdapter({ maxLen: 2 });
    const subscription = await adapter.subscribe({ topic: 't', group: 'g', consumer: 'c', startFrom: 'latest' });
    const message = (id: string) => ({ id, topic: 't', key: null, headers: {}, timestamp: 0, body: '1' });
    await adapter.publish([message('1'), message('2'), message('3')]);
    const taken = await subscription.fetch(10, new AbortController().signal);
    expect(taken.map((delivery) => delivery.message.id)).toEqual(['2', '3']);
    await subscription.close([]);
    await adapter.close();
    expect(() => new MemoryAdapter({ claimIdleMs: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'claimIdleMs' }),
    );
  });
});
