import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HealthCheckService } from '@infra/health';
import { HealthCheckScheduler } from './health-check-scheduler.js';
import { ErrorMonitor } from './error-monitor.js';
import type { ErrorEvent } from './error-event.js';
import type { Logger } from '@infra/core';
import { MissingPeerError } from './errors.js';
import type { SentryLike } from './sentry/transport.js';
import { runDocumentedHealthSnippet } from '../test/documented-health-snippet.js';

function recordingLogger(): Logger & {
  lines: { level: string; fields: Record<string, unknown>; message?: string }[];
} {
  const lines: { level: string; fields: Record<string, unknown>; message?: string }[] = [];
  const log = (level: string) => (fields: object, message?: string) =>
    void lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function setup(loadSentry?: () => Promise<SentryLike>) {
  const logger = recordingLogger();
  const events: ErrorEvent[] = [];
  const errorMonitor = new ErrorMonitor({ transports: [{ name: 'memory', send: (e) => void events.push(e) }], logger });
  const healthCheckScheduler = new HealthCheckScheduler({
    errorMonitor,
    logger,
    ...(loadSentry ? { loadSentry } : {}),
  });
  return { logger, events, errorMonitor, healthCheckScheduler };
}

function fakeSentry(initialized: boolean) {
  const captured: { exception: unknown; hint: unknown; scope: Record<string, unknown> }[] = [];
  const sentry: SentryLike = {
    isInitialized: () => initialized,
    withScope(callback) {
      const scope: Record<string, unknown> = {};
      const set = (key: string) => (value: unknown) => (scope[key] = value);
      callback({
        setLevel: set('level'),
        setTags: set('tags'),
        setUser: set('user'),
        setContext: (_n, c) => (scope.context = c),
        setFingerprint: set('fingerprint'),
        setExtra: (k, v) => (scope[k] = v),
      });
      captured.at(-1)!.scope = scope;
    },
    captureException(exception, hint) {
      captured.push({ exception, hint, scope: {} });
      return 'id';
    },
    flush: async () => true,
  };
  return { sentry, captured };
}

describe('HealthCheckScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the documented snippet as written, says once that Sentry is off, and keeps running', async () => {
    const { healthCheckScheduler, logger } = setup(() =>
      Promise.reject(new MissingPeerError('@sentry/node', 'Reporting to Sentry')),
    );
    let healthy = true;
    const dbConnection = {
      runHealthCheck: async () =>
        healthy ? { status: 'healthy', message: 'ok' } : { status: 'unhealthy', message: 'connection refused' },
    };

    runDocumentedHealthSnippet(healthCheckScheduler, dbConnection);

    await vi.advanceTimersByTimeAsync(0);
    expect(healthCheckScheduler.getLastResults().database).toMatchObject({ status: 'pass', critical: true });
    healthy = false;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(healthCheckScheduler.getLastResults().database).toMatchObject({
      status: 'fail',
      output: 'connection refused',
    });
    await vi.advanceTimersByTimeAsync(120_000);

    const sentryWarnings = logger.lines.filter((l) =>
      l.message?.startsWith('Sentry reporting of health checks is off'),
    );
    expect(sentryWarnings).toHaveLength(1);
    expect(sentryWarnings[0]!.fields.reason).toBe('@sentry/node is not installed');
    await healthCheckScheduler.close();
  });

  it('logs only changes by default and every check with logAllChecks', async () => {
    const { healthCheckScheduler, logger } = setup();
    let cacheUp = true;
    healthCheckScheduler.registerHealthCheck('database', () => ({ status: 'ok' }), true);
    healthCheckScheduler.registerHealthCheck('cache', () => cacheUp);
    healthCheckScheduler.startHealthChecks({ intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(3000);
    expect(logger.lines.filter((l) => l.fields.check !== undefined)).toEqual([]);

    cacheUp = false;
    await vi.advanceTimersByTimeAsync(1000);
    const change = logger.lines.filter((l) => l.fields.check !== undefined);
    expect(change).toMatchObject([
      {
        level: 'warn',
        fields: { check: 'cache', status: 'fail', previous: 'pass' },
        message: 'health check "cache" fail (was pass)',
      },
    ]);
    expect(logger.lines.at(-1)).toMatchObject({ message: 'health status changed to warn' });

    logger.lines.length = 0;
    healthCheckScheduler.startHealthChecks({ intervalMs: 1000, logAllChecks: true, runImmediately: false });
    await vi.advanceTimersByTimeAsync(2000);
    expect(logger.lines.filter((l) => l.fields.check !== undefined).map((l) => l.fields.check)).toEqual([
      'database',
      'cache',
      'database',
      'cache',
    ]);
    await healthCheckScheduler.close();
  });

  it('reports a critical check to the error monitor when it starts failing, not on every run', async () => {
    const { healthCheckScheduler, events } = setup();
    let up = false;
    healthCheckScheduler.registerHealthCheck(
      'database',
      () => ({ status: up ? 'pass' : 'fail', message: 'ECONNREFUSED 127.0.0.1:5432' }),
      true,
    );
    healthCheckScheduler.registerHealthCheck('mail', () => false);
    healthCheckScheduler.startHealthChecks({ intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      domain: 'health',
      tags: { check: 'database', domain: 'health' },
      error: {
        name: 'HealthCheckFailedError',
        code: 'HEALTH_CHECK_FAILED',
        message: 'Critical health check "database" failed: ECONNREFUSED 127.0.0.1:5432',
      },
    });
    up = true;
    await vi.advanceTimersByTimeAsync(1000);
    up = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(events).toHaveLength(2);
    await healthCheckScheduler.close();
  });

  it('forwards failures to an initialised Sentry, and says once when it is not initialised', async () => {
    const ready = fakeSentry(true);
    const { healthCheckScheduler } = setup(async () => ready.sentry);
    healthCheckScheduler.registerHealthCheck(
      'database',
      () => ({ status: 'error', message: 'password=hunter2 rejected' }),
      true,
    );
    healthCheckScheduler.startHealthChecks({ sendToSentry: true });
    await vi.advanceTimersByTimeAsync(0);
    await vi.waitFor(() => {
      expect(ready.captured).toHaveLength(1);
    });
    expect((ready.captured[0]!.exception as Error).message).toBe(
      'Critical health check "database" failed: password=[REDACTED] rejected',
    );
    expect(ready.captured[0]!.scope).toMatchObject({ level: 'error', fingerprint: ['health-check', 'database'] });
    await healthCheckScheduler.close();

    const off = fakeSentry(false);
    const second = setup(async () => off.sentry);
    second.healthCheckScheduler.registerHealthCheck('database', () => false, true);
    second.healthCheckScheduler.startHealthChecks({ sendToSentry: true, intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(3000);
    expect(off.captured).toHaveLength(0);
    expect(
      second.logger.lines.filter((l) => l.message?.includes('Sentry reporting of health checks is off')),
    ).toHaveLength(1);
    expect(second.events).toHaveLength(1);
    await second.healthCheckScheduler.close();
  });

  it("uses an unref'd timer, stops cleanly, and does not overlap slow runs", async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    const scheduler = new HealthCheckScheduler({ service, logger: recordingLogger() });
    let calls = 0;
    scheduler.registerHealthCheck(
      'slow',
      () => {
        calls++;
        return new Promise((resolve) => setTimeout(resolve, 2500, true));
      },
      { timeoutMs: 10_000 },
    );
    const before = vi.getTimerCount();
    scheduler.startHealthChecks({ intervalMs: 1000 });
    expect(scheduler.isRunning).toBe(true);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    // close() waits for the run in progress (its check ends 2.5 s after it started).
    const closing = scheduler.close();
    await vi.advanceTimersByTimeAsync(20_000);
    await closing;
    await scheduler.close();
    expect(calls).toBe(2);
    expect(vi.getTimerCount()).toBe(before);
    expect(scheduler.isRunning).toBe(false);
    expect(scheduler.getLastReport()?.status).toBe('pass');
  });

  it('validates its input', async () => {
    const { healthCheckScheduler } = setup();
    await expect(healthCheckScheduler.close({ timeoutMs: -5 })).rejects.toThrow(/"timeoutMs".*got -5/);
    expect(() => healthCheckScheduler.startHealthChecks({ intervalMs: 0 })).toThrow(/"intervalMs".*got 0/);
    expect(() => healthCheckScheduler.startHealthChecks({ logAllChecks: 'yes' as never })).toThrow(/"logAllChecks"/);
    healthCheckScheduler.registerHealthCheck('a', () => true);
    expect(() => healthCheckScheduler.registerHealthCheck('a', () => true)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_CHECK' }),
    );
    expect(healthCheckScheduler.isRunning).toBe(false);
  });
});
