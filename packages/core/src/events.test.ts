import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventHub, sleep } from './index.js';

interface Events {
  tick: { n: number };
  done: undefined;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('EventHub', () => {
  it('delivers to listeners in order, unsubscribes, and reports has()', () => {
    const hub = new EventHub<Events>();
    const seen: string[] = [];
    const off = hub.on('tick', ({ n }) => seen.push(`a${n}`));
    hub.on('tick', ({ n }) => seen.push(`b${n}`));
    expect(hub.has('tick')).toBe(true);
    expect(hub.has('done')).toBe(false);
    hub.emit('tick', { n: 1 });
    off();
    hub.emit('tick', { n: 2 });
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('once() fires a single time', () => {
    const hub = new EventHub<Events>();
    let count = 0;
    hub.once('done', () => count++);
    hub.emit('done', undefined);
    hub.emit('done', undefined);
    expect(count).toBe(1);
    expect(hub.has('done')).toBe(false);
  });

  it('keeps delivering when a listener throws, and turns the throw into a warning', () => {
    const hub = new EventHub<Events>();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let reached = false;
    hub.on('tick', () => {
      throw new Error('listener bug');
    });
    hub.on('tick', () => {
      reached = true;
    });
    expect(() => {
      hub.emit('tick', { n: 1 });
    }).not.toThrow();
    expect(reached).toBe(true);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('listener bug'),
      expect.objectContaining({ code: 'INFRA_LISTENER_ERROR' }),
    );
  });
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    vi.useFakeTimers();
    try {
      let done = false;
      const pending = sleep(1000).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await pending;
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects at once on an aborted signal, and clears its timer on abort', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(sleep(10_000, controller.signal)).rejects.toThrow('stop');

    const later = new AbortController();
    const pending = sleep(60_000, later.signal, (reason) => new Error(`wrapped: ${String(reason)}`));
    later.abort('bye');
    await expect(pending).rejects.toThrow('wrapped: bye');
  });
});
