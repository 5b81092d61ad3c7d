import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ContextSlot } from './context-slot.js';

describe('ContextSlot', () => {
  it('follows the async call chain, and is empty outside run()', async () => {
    const slot = new ContextSlot<string>('request');
    expect(slot.get()).toBeUndefined();
    const seen = await slot.run('a', async () => {
      await tick();
      const inTimer = await new Promise((resolve) => {
        setTimeout(() => {
          resolve(slot.get());
        }, 1);
      });
      return [slot.get(), inTimer];
    });
    expect(seen).toEqual(['a', 'a']);
    expect(slot.get()).toBeUndefined();
  });

  it('keeps concurrent chains apart', async () => {
    const slot = new ContextSlot<number>('job');
    const read = (n: number) =>
      slot.run(n, async () => {
        await tick();
        return slot.get();
      });
    expect(await Promise.all([1, 2, 3].map(read))).toEqual([1, 2, 3]);
  });

  it('gives the innermost run of a slot, and leaves other slots as they were', async () => {
    const outer = new ContextSlot<string>('outer');
    const inner = new ContextSlot<string>('inner');
    await outer.run('o1', async () => {
      await inner.run('i1', async () => {
        await tick();
        expect([outer.get(), inner.get()]).toEqual(['o1', 'i1']);
        await outer.run('o2', async () => {
          await tick();
          expect([outer.get(), inner.get()]).toEqual(['o2', 'i1']);
        });
        expect([outer.get(), inner.get()]).toEqual(['o1', 'i1']);
      });
      expect([outer.get(), inner.get()]).toEqual(['o1', undefined]);
    });
  });

  it('empties one slot with exit(), from there on only, and keeps the others', async () => {
    const transaction = new ContextSlot<string>('transaction');
    const request = new ContextSlot<string>('request');
    await request.run('r', () =>
      transaction.run('t', async () => {
        const inside = await transaction.exit(async () => {
          await tick();
          // A run inside an exit sets the slot again.
          const nested = transaction.run('t2', () => transaction.get());
          return [transaction.get(), request.get(), nested];
        });
        expect(inside).toEqual([undefined, 'r', 't2']);
        expect(transaction.get()).toBe('t');
      }),
    );
  });

  it('passes arguments through and returns what fn returns, errors included', () => {
    const slot = new ContextSlot<string>('args');
    expect(slot.run('v', (a: number, b: string) => `${slot.get() ?? ''}:${String(a)}${b}`, 1, 'x')).toBe('v:1x');
    expect(slot.exit((a: number) => a * 2, 21)).toBe(42);
    expect(() =>
      slot.run('v', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(slot.get()).toBeUndefined();
  });

  it('tells slots apart even when they have the same name', () => {
    const a = new ContextSlot<string>('same');
    const b = new ContextSlot<string>('same');
    expect(a.run('A', () => [a.get(), b.get()])).toEqual(['A', undefined]);
  });
});
