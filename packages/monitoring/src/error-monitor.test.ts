import { describe, expect, it, vi } from 'vitest';
import { ErrorMonitor } from './error-monitor.js';
import { logTransport, type ErrorEvent, type ErrorTransport } from './error-event.js';
import type { Logger } from '@infra/core';

function memoryTransport(): ErrorTransport & { events: ErrorEvent[] } {
  const events: ErrorEvent[] = [];
  return { name: 'memory', events, send: (event) => void events.push(event) };
}

function silentLogger(): Logger & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  const log = (level: string) => (object: object, message?: string) => void calls.push([level, object, message]);
  return { calls, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function codedError(message: string, code: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

describe('ErrorMonitor', () => {
  it('runs the documented snippets as written: domain filter, user and context', () => {
    const transport = memoryTransport();
    const errorMonitor = new ErrorMonitor({ transports: [transport] });
    const req = { user: { id: 'u-1' }, params: { id: 'c-9' } };

    errorMonitor.registerDomain('challenge', {
      shouldCapture: (error) => {
        return error.code !== 'CHALLENGE_NOT_FOUND';
      },
    });

    let error = codedError('Challenge c-9 not found', 'CHALLENGE_NOT_FOUND');
    const filtered = errorMonitor.captureError(error, {
      domain: 'challenge',
      user: { id: req.user.id },
      context: { challengeId: req.params.id },
    });
    expect(filtered).toEqual({ captured: false, reason: 'filtered' });

    error = codedError('Scoring service unavailable', 'SCORING_DOWN');
    const result = errorMonitor.captureError(error, {
      domain: 'challenge',
      user: { id: req.user.id },
      context: { challengeId: req.params.id },
    });
    expect(result.captured).toBe(true);
    expect(transport.events).toHaveLength(1);
    expect(transport.events[0]).toMatchObject({
      domain: 'challenge',
      level: 'error',
      user: { id: 'u-1' },
      context: { challengeId: 'c-9' },
      tags: { domain: 'challenge' },
      error: { name: 'Error', message: 'Scoring service unavailable', code: 'SCORING_DOWN' },
      suppressed: 0,
    });
    expect(transport.events[0]!.id).toMatch(/^[0-9a-f]{32}$/);
    expect(errorMonitor.stats()).toMatchObject({ captured: 1, filtered: 1 });
  });

  it('groups by fingerprint: same failure and place despite varying ids, apart otherwise', () => {
    const monitor = new ErrorMonitor({ transports: [memoryTransport()], rateLimit: false });
    const fail = (id: number) => new Error(`User ${id} not found in "tenant-${id}"`);
    const a = monitor.captureError(fail(1));
    const b = monitor.captureError(fail(2));
    const other = monitor.captureError(new TypeError('x is undefined'));
    const domainScoped = monitor.captureError(fail(3), { domain: 'billing' });
    const custom = monitor.captureError(fail(4), { fingerprint: ['users', 'lookup'] });
    const fp = (r: ReturnType<ErrorMonitor['captureError']>) => (r.captured ? r.fingerprint : '');
    expect(fp(a)).toBe(fp(b));
    expect(fp(other)).not.toBe(fp(a));
    expect(fp(domainScoped)).not.toBe(fp(a));
    expect(custom.captured && custom.event.fingerprintParts).toEqual(['users', 'lookup']);
  });

  it('rate-limits each fingerprint per window and reports the suppressed count afterwards', () => {
    let now = 0;
    const transport = memoryTransport();
    const monitor = new ErrorMonitor({
      transports: [transport],
      rateLimit: { windowMs: 1000, maxPerWindow: 2 },
      now: () => now,
    });
    const boom = () => new Error('db down');
    const results = Array.from({ length: 5 }, () => monitor.captureError(boom()));
    expect(results.map((r) => r.captured)).toEqual([true, true, false, false, false]);
    expect(results[2]).toMatchObject({ captured: false, reason: 'rate_limited' });
    // A different error still gets through while the first is limited.
    expect(monitor.captureError(new RangeError('other')).captured).toBe(true);
    now = 1000;
    const next = monitor.captureError(boom());
    expect(next.captured && next.event.suppressed).toBe(3);
    expect(transport.events).toHaveLength(4);
    expect(monitor.stats().rateLimited).toBe(3);
  });

  it('never lets secrets reach a transport', () => {
    const transport = memoryTransport();
    const monitor = new ErrorMonitor({ transports: [transport] });
    const error = new Error('OpenAI rejected key sk-abcdefghijklmnopqrstuvwxyz123456 (Bearer abc123)');
    monitor.captureError(error, {
      user: { id: 'u1', password: 'pw' },
      context: { request: { headers: { authorization: 'Bearer abc123', cookie: 'a=b' }, query: '?api_key=k1' } },
      tags: { token: 'secret-tag' },
    });
    const event = transport.events[0]!;
    const serialized = JSON.stringify({
      ...event,
      exception: { message: event.exception.message, stack: event.exception.stack },
    });
    expect(serialized).not.toMatch(/sk-abcdef|abc123|"pw"|a=b|k1|secret-tag/);
    expect(event.exception.message).toBe('OpenAI rejected key [REDACTED] (Bearer [REDACTED])');
  });

  it('survives failing transports and filters, warning once each', async () => {
    const logger = silentLogger();
    const good = memoryTransport();
    const monitor = new ErrorMonitor({
      logger,
      rateLimit: false,
      transports: [
        {
          name: 'throws',
          send: () => {
            throw new Error('sync');
          },
        },
        { name: 'rejects', send: () => Promise.reject(new Error('async')) },
        good,
      ],
    });
    monitor.registerDomain('d', {
      shouldCapture: () => {
        throw new Error('filter bug');
      },
    });
    expect(monitor.captureError(new Error('a'), { domain: 'd' }).captured).toBe(true);
    expect(monitor.captureError(new Error('b'), { domain: 'd' }).captured).toBe(true);
    expect(await monitor.flush(500)).toBe(true);
    expect(good.events).toHaveLength(2);
    expect(logger.calls.map((c) => c[2])).toEqual([
      'shouldCapture threw; capturing the error anyway',
      'error transport failed',
      'error transport failed',
    ]);
    expect(monitor.stats().transportErrors).toBe(4);
  });

  it('captures non-Error values and validates its input', () => {
    const transport = memoryTransport();
    const monitor = new ErrorMonitor({ transports: [transport] });
    monitor.captureError('plain string');
    monitor.captureError({ message: 'error-like', code: 42 });
    expect(transport.events.map((e) => e.error)).toMatchObject([
      { name: 'NonError', message: 'plain string' },
      { message: 'error-like', code: '42' },
    ]);
    monitor.registerDomain('x');
    expect(() => monitor.registerDomain('x')).toThrow(expect.objectContaining({ code: 'DUPLICATE_DOMAIN' }));
    expect(() => monitor.registerDomain('y', { shouldCapture: 'no' as never })).toThrow(/"shouldCapture"/);
    expect(() => new ErrorMonitor({ rateLimit: { maxPerWindow: 0 } })).toThrow(/"rateLimit.maxPerWindow".*got 0/);
    expect(() => monitor.addTransport({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('logs through the log transport with the level of the event, and nowhere when given no logger', () => {
    const logger = silentLogger();
    const monitor = new ErrorMonitor({ transports: [logTransport({ logger, stack: false })] });
    monitor.registerDomain('jobs', { level: 'warning', tags: { team: 'core' } });
    monitor.captureError(codedError('retry later', 'BUSY'), { domain: 'jobs' });
    const [level, fields, message] = logger.calls[0]!;
    expect(level).toBe('warn');
    expect(message).toBe('[jobs] Error: retry later');
    expect(fields).toMatchObject({ domain: 'jobs', tags: { team: 'core', domain: 'jobs' }, error: { code: 'BUSY' } });
    expect((fields as { error: { stack?: string } }).error.stack).toBeUndefined();
    // Given no logger and no transport, a monitor writes nothing at all.
    const spy = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    expect(new ErrorMonitor().captureError(new Error('nowhere')).captured).toBe(true);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(() => logTransport({} as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'logger' }),
    );
  });
});
