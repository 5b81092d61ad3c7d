import { tracerFor, withSpan } from '@infra/core';
import { parentOf, useTestTracing, startTestTracing } from '@infra/test-utils/tracing';
import { describe, expect, it } from 'vitest';
import { HealthCheckService } from './health-check-service.js';

describe('health spans', () => {
  const tracing = useTestTracing();

  it('records a report span with one child span per check run, each with its status', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 60_000 });
    const inner = tracerFor('database-driver');
    service.register('database', () => withSpan(inner, 'SELECT 1', { kind: 'client' }, () => Promise.resolve(true)), {
      critical: true,
      componentType: 'datastore',
    });
    service.register('mail', () => ({ status: 'warn', message: 'slow' }));
    service.register('queue', () => {
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    });
    const report = await service.run();
    expect(report.status).toBe('warn'); // only a critical check's failure fails the report

    const spans = tracing.spans();
    const [root] = tracing.spansNamed('health report');
    expect(root?.attributes).toEqual({ 'health.status': 'warn', 'health.checks': 3 });
    const checks = spans.filter((span) => parentOf(span, spans) === root);
    expect(checks.map((span) => [span.name, span.attributes['health.check.status']]).sort()).toEqual([
      ['health check database', 'pass'],
      ['health check mail', 'warn'],
      ['health check queue', 'fail'],
    ]);
    const [database] = tracing.spansNamed('health check database');
    expect(database?.attributes).toMatchObject({
      'health.check.name': 'database',
      'health.check.critical': true,
      'health.check.component_type': 'datastore',
    });
    expect(parentOf(tracing.spansNamed('SELECT 1')[0]!, spans)).toBe(database);
    expect(tracing.spansNamed('health check queue')[0]?.attributes['error.type']).toBe('ECONNREFUSED');

    // A cached result runs no check: only the report span.
    tracing.reset();
    await service.run({ names: ['database'] });
    expect(tracing.spans().map((span) => span.name)).toEqual(['health report']);
  });

  it('records a check that times out with its code', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    service.register('stuck', () => new Promise<never>(() => undefined), { timeoutMs: 20 });
    await service.run();
    expect(tracing.spansNamed('health check stuck')[0]?.attributes).toMatchObject({
      'health.check.status': 'fail',
      'error.type': 'CHECK_TIMEOUT',
    });
  });
});

describe('without an SDK', () => {
  it('records nothing', async () => {
    const tracing = startTestTracing();
    await tracing.stop();
    const service = new HealthCheckService();
    service.register('ok', () => true);
    expect((await service.run()).status).toBe('pass');
    expect(tracing.spans()).toEqual([]);
  });
});
