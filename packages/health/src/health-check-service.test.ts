import { describe, expect, it, vi } from 'vitest';
import { HealthCheckService, aggregate } from './health-check-service.js';
import { isHealthError } from './errors.js';
import { normalizeStatus } from './status.js';

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('normalizeStatus', () => {
  it('maps the draft values, common spellings and booleans', () => {
    expect(['pass', 'ok', 'OK', 'healthy', 'up', ' Passed '].map((s) => normalizeStatus(s))).toEqual(
      Array(6).fill('pass'),
    );
    expect(['warn', 'warning', 'degraded'].map((s) => normalizeStatus(s))).toEqual(Array(3).fill('warn'));
    expect(['fail', 'error', 'unhealthy', 'down', 'DOWN'].map((s) => normalizeStatus(s))).toEqual(
      Array(5).fill('fail'),
    );
    expect(normalizeStatus(true)).toBe('pass');
    expect(normalizeStatus(false)).toBe('fail');
  });

  it('rejects an unknown status with a coded error naming it', () => {
    expect(() => normalizeStatus('sort-of', 'db')).toThrow(/"db" returned unknown status "sort-of"/);
    try {
      normalizeStatus(42);
    } catch (error) {
      expect(isHealthError(error, 'INVALID_STATUS')).toBe(true);
    }
  });
});

describe('HealthCheckService', () => {
  it('aggregates: critical failure fails, non-critical failure warns, all passing passes', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    let dbUp = true;
    let mailUp = true;
    service.register('database', async () => ({ status: dbUp ? 'healthy' : 'unhealthy', message: 'db' }), true);
    service.register('mail', () => (mailUp ? { status: 'ok' } : { status: 'error', message: 'smtp refused' }));

    expect((await service.run()).status).toBe('pass');
    mailUp = false;
    const warned = await service.run();
    expect(warned.status).toBe('warn');
    expect(warned.checks.find((c) => c.name === 'mail')).toMatchObject({
      status: 'fail',
      critical: false,
      output: 'smtp refused',
    });
    dbUp = false;
    expect((await service.run()).status).toBe('fail');
    mailUp = true;
    expect((await service.run()).status).toBe('fail');
    expect(aggregate([{ status: 'warn', critical: true }])).toBe('warn');
  });

  it('bounds a hanging check by its timeout, aborts its signal and reports CHECK_TIMEOUT', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    let aborted: unknown;
    service.register(
      'hangs',
      ({ signal }) =>
        new Promise<never>(() => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
          });
        }),
      { critical: true, timeoutMs: 50 },
    );
    service.register('fine', () => undefined, true);

    const report = await service.ready();
    expect(report.status).toBe('fail');
    const hung = report.checks.find((c) => c.name === 'hangs')!;
    expect(hung.status).toBe('fail');
    expect(hung.error).toEqual({ code: 'CHECK_TIMEOUT', message: 'Health check "hangs" timed out after 50 ms' });
    expect(isHealthError(aborted, 'CHECK_TIMEOUT')).toBe(true);
    expect(report.checks.find((c) => c.name === 'fine')!.status).toBe('pass');
  });

  it('turns throws, rejections and invalid returns into failures with the reason', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    service.register('throws', () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    service.register('rejects', () => Promise.reject(new Error('nope')));
    service.register('weird', () => ({ status: 'sort-of' }));
    service.register('shape', () => 'yes' as never);
    const report = await service.run();
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName.throws).toMatchObject({
      status: 'fail',
      error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    });
    expect(byName.rejects).toMatchObject({ status: 'fail', output: 'nope' });
    expect(byName.weird!.error).toMatchObject({ code: 'INVALID_STATUS' });
    expect(byName.shape!.error).toMatchObject({ code: 'INVALID_STATUS' });
    expect(report.status).toBe('warn');
  });

  it('caches results for cacheTtlMs and shares one run between concurrent reports', async () => {
    const time = clock();
    const service = new HealthCheckService({ cacheTtlMs: 1000, now: time.now });
    const check = vi.fn(async () => ({ status: 'pass', observedValue: 3, observedUnit: 'ms' }));
    service.register('db', check, true);

    const reports = await Promise.all(Array.from({ length: 50 }, () => service.ready()));
    expect(check).toHaveBeenCalledTimes(1);
    expect(reports.every((r) => r.status === 'pass')).toBe(true);

    time.advance(999);
    const cached = await service.run();
    expect(check).toHaveBeenCalledTimes(1);
    expect(cached.checks[0]).toMatchObject({ cached: true, observedValue: 3, observedUnit: 'ms' });

    time.advance(1);
    await service.run();
    expect(check).toHaveBeenCalledTimes(2);
    await service.run({ fresh: true });
    expect(check).toHaveBeenCalledTimes(3);
    service.clearCache();
    await service.run();
    expect(check).toHaveBeenCalledTimes(4);
  });

  it('selects checks by tags, names and criticality', async () => {
    const service = new HealthCheckService();
    service.register('pg', () => true, { critical: true, tags: ['db'] });
    service.register('redis', () => true, { tags: ['cache', 'db'] });
    service.register('openai', () => true, { tags: ['external'] });
    const names = async (options: Parameters<HealthCheckService['run']>[0]) =>
      (await service.run(options)).checks.map((c) => c.name);
    expect(await names({ tags: ['db'] })).toEqual(['pg', 'redis']);
    expect(await names({ criticalOnly: true })).toEqual(['pg']);
    expect(await names({ names: ['openai'] })).toEqual(['openai']);
    await expect(service.run({ names: ['nope'] })).rejects.toMatchObject({ code: 'UNKNOWN_CHECK' });
  });

  it('rejects duplicate names and bad options with coded errors naming the value', () => {
    const service = new HealthCheckService();
    service.register('db', () => true);
    expect(() => service.register('db', () => true)).toThrow(expect.objectContaining({ code: 'DUPLICATE_CHECK' }));
    expect(() => service.register('', () => true)).toThrow(/"name".*got ""/);
    expect(() => service.register('x', 'fn' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'check' }),
    );
    expect(() => service.register('y', () => true, { timeoutMs: -1 })).toThrow(/"timeoutMs".*got -1/);
    expect(() => new HealthCheckService({ cacheTtlMs: Number.NaN })).toThrow(/"cacheTtlMs"/);
    expect(service.unregister('db')).toBe(true);
    expect(service.has('db')).toBe(false);
  });

  it('fails readiness at once while shutting down, without running checks', async () => {
    const service = new HealthCheckService();
    const check = vi.fn(() => true);
    service.register('db', check, true);
    service.beginShutdown();
    const report = await service.ready();
    expect(report).toMatchObject({ status: 'fail', output: 'shutting down', checks: [] });
    expect(check).not.toHaveBeenCalled();
    expect(service.live().status).toBe('pass');
  });

  it('latches startup once the critical checks pass, or only by hand in manual mode', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    let up = false;
    const check = vi.fn(() => up);
    service.register('db', check, true);
    expect((await service.startup()).status).toBe('fail');
    up = true;
    expect((await service.startup()).status).toBe('pass');
    up = false;
    expect((await service.startup()).status).toBe('pass');
    expect(check).toHaveBeenCalledTimes(2);

    const manual = new HealthCheckService({ startup: 'manual' });
    expect((await manual.startup()).status).toBe('fail');
    manual.markStarted();
    expect((await manual.startup()).status).toBe('pass');
  });
});
