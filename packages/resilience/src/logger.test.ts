import { recordingLogger } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, retry } from './index.js';

const fail = (): Promise<never> => Promise.reject(new Error('down'));

describe('logger option', () => {
  it('logs a breaker opening as warn and its recovery as info', async () => {
    let t = 0;
    const logger = recordingLogger();
    const breaker = new CircuitBreaker('svc', { consecutiveFailures: 1, resetTimeoutMs: 100, now: () => t, logger });
    await expect(breaker.execute(fail)).rejects.toThrow('down');
    t += 200;
    await breaker.execute(() => Promise.resolve('ok'));
    expect(logger.lines.map((l) => [l.level, l.message, l.fields])).toEqual([
      ['warn', 'circuit "svc" open', { breaker: 'svc', from: 'closed', to: 'open' }],
      ['info', 'circuit "svc" half-open', { breaker: 'svc', from: 'open', to: 'half-open' }],
      ['info', 'circuit "svc" closed', { breaker: 'svc', from: 'half-open', to: 'closed' }],
    ]);
  });

  it('logs retries as debug and the give-up as warn, with the error', async () => {
    const logger = recordingLogger();
    const policy = retry({ maxAttempts: 2, initialDelayMs: 1, jitter: 'none', logger });
    await expect(policy.execute(fail)).rejects.toThrow('down');
    expect(logger.lines.map((l) => [l.level, l.fields.err instanceof Error])).toEqual([
      ['debug', true],
      ['warn', true],
    ]);
  });

  it('refuses a logger without the four methods, naming the option', () => {
    const half = { info() {}, warn() {}, error() {} } as never;
    expect(() => new CircuitBreaker('svc', { logger: half })).toThrow(expect.objectContaining({ option: 'logger' }));
    expect(() => retry({ logger: half })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'logger' }),
    );
  });
});
