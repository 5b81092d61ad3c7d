import { eventually, expectIdempotencyClaims } from '@infra/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore, idempotent } from './idempotency.js';
import { MemoryAdapter } from './memory/memory-adapter.js';
import { MessageBus } from './message-bus.js';
import type { ReceivedMessage } from './subscription.js';

const message = (id: string, signal = new AbortController().signal): ReceivedMessage => ({
  id,
  group: 'g',
  signal,
  topic: 't',
  key: null,
  headers: {},
  timestamp: 0,
  payload: {},
  attempt: 1,
  deliveryCount: 1,
  correlationId: 'c',
  traceparent: undefined,
});

describe('MemoryIdempotencyStore', () => {
  it('keeps the lease rules of every idempotency store', async () => {
    await expectIdempotencyClaims(new MemoryIdempotencyStore(), 'm1');
  });
});

describe('idempotent()', () => {
  it('runs a message id once, skipping and reporting duplicates', async () => {
    const store = new MemoryIdempotencyStore();
    const runs: string[] = [];
    const duplicates: string[] = [];
    const handler = idempotent((_payload, m) => void runs.push(m.id), {
      store,
      onDuplicate: (m) => void duplicates.push(m.id),
    });
    await handler({}, message('a'));
    await handler({}, message('a'));
    await handler({}, message('b'));
    expect(runs).toEqual(['a', 'b']);
    expect(duplicates).toEqual(['a']);
  });

  it('releases the claim when the handler fails, so that a retry runs it', async () => {
    const store = new MemoryIdempotencyStore();
    let calls = 0;
    const handler = idempotent(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('first try fails');
      },
      { store },
    );
    await expect(handler({}, message('x'))).rejects.toThrow('first try fails');
    await handler({}, message('x'));
    await handler({}, message('x'));
    expect(calls).toBe(2);
  });

  it('makes a duplicate wait for the running first delivery instead of acknowledging it blindly', async () => {
    const store = new MemoryIdempotencyStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const handler = idempotent(
      async () => {
        runs += 1;
        await gate;
      },
      { store, pollMs: 5 },
    );
    const first = handler({}, message('m'));
    let duplicateDone = false;
    const duplicate = handler({}, message('m')).then(() => (duplicateDone = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(duplicateDone).toBe(false);
    release();
    await Promise.all([first, duplicate]);
    expect(runs).toBe(1);
  });

  it('lets another consumer take over a claim whose lease ran out (its consumer died)', async () => {
    let now = 1_000;
    const store = new MemoryIdempotencyStore(() => now);
    expect(await store.claim('k', 'dead', 100)).toBe('claimed');
    expect(await store.claim('k', 'other', 100)).toBe('busy');
    now += 101;
    expect(await store.claim('k', 'other', 100)).toBe('claimed');
    await store.complete('k', 'other', 1_000);
    expect(await store.claim('k', 'third', 100)).toBe('done');
    now += 1_001;
    expect(await store.claim('k', 'third', 100)).toBe('claimed');
  });

  it('validates its arguments', () => {
    const store = new MemoryIdempotencyStore();
    expect(() => idempotent('nope' as never, { store })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', option: 'handler' }),
    );
    expect(() => idempotent(() => undefined, { store: {} as never })).toThrow(
      expect.objectContaining({ option: 'store' }),
    );
    expect(() => idempotent(() => undefined, { store, ttlMs: 0 })).toThrow(
      expect.objectContaining({ option: 'ttlMs' }),
    );
  });
});

describe('idempotent consumer on a bus', () => {
  const buses: MessageBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close({ timeoutMs: 50 })));
  });

  it('handles a message published twice with one id once', async () => {
    const bus = new MessageBus({ adapter: new MemoryAdapter(), lagIntervalMs: 0 });
    buses.push(bus);
    const handled: unknown[] = [];
    await bus
      .subscribe(
        'payment.captured',
        idempotent((payload) => void handled.push(payload), { store: new MemoryIdempotencyStore() }),
      )
      .ready();
    await bus.publish('payment.captured', { amount: 5 }, { id: 'pay-1' });
    await bus.publish('payment.captured', { amount: 5 }, { id: 'pay-1' });
    await bus.publish('payment.captured', { amount: 7 }, { id: 'pay-2' });
    await eventually(() => handled.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handled).toEqual([{ amount: 5 }, { amount: 7 }]);
  });
});
