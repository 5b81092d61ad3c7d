import { recordingLogger } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { InMemoryCacheService } from './memory-cache.js';

describe('logger option', () => {
  it('logs the failures the cache absorbs as warn lines, with the error', async () => {
    let t = 1_000_000;
    const logger = recordingLogger();
    const cache = new InMemoryCacheService('logged', { logger, now: () => t, closeTimeoutMs: 0 });
    await cache.set('k', 'old', { ttl: 1, grace: 60 });
    t += 2_000;
    const never = (): Promise<never> => new Promise(() => undefined);
    expect(await cache.getOrSet('k', never, { softTimeoutMs: 10_000, hardTimeoutMs: 20 })).toBe('old');
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: 'cache "logged": load failed',
        fields: expect.objectContaining({ cache: 'logged', operation: 'load', key: 'k', err: expect.anything() }),
      },
    ]);
    await cache.close();
  });

  it('refuses a logger without the four methods, naming the option', () => {
    expect(() => new InMemoryCacheService('x', { logger: { info() {}, warn() {}, error() {} } as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'logger' }),
    );
  });
});
