import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runDocumentedHealthSnippet } from '../test/documented-health-snippet.js';

// Simulates an application that did not install the optional peer @sentry/node.
vi.mock('@sentry/node', () => {
  throw Object.assign(new Error("Cannot find package '@sentry/node'"), { code: 'ERR_MODULE_NOT_FOUND' });
});

const { errorMonitor, healthCheckScheduler, metricsCollector, openaiMonitor, performanceMonitor } =
  await import('./index.js');

function stderrLines(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const spy = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
  return {
    lines: () => spy.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>),
    restore: () => {
      spy.mockRestore();
    },
  };
}

afterEach(async () => {
  await healthCheckScheduler.close();
  vi.restoreAllMocks();
});

describe('module-level default instances', () => {
  it('run the documented health snippet as written with Sentry not installed: said once, never a crash', async () => {
    const stderr = stderrLines();
    const dbConnection = {
      runHealthCheck: async () => ({ status: 'unhealthy', message: 'connect ECONNREFUSED 127.0.0.1:5432' }),
    };

    runDocumentedHealthSnippet(healthCheckScheduler, dbConnection);
    await vi.waitFor(() => {
      expect(healthCheckScheduler.getLastResults().database?.status).toBe('fail');
    });
    await healthCheckScheduler.runHealthChecks();
    await vi.waitFor(() => {
      expect(stderr.lines().some((l) => String(l.msg).startsWith('Sentry reporting of health checks is off'))).toBe(
        true,
      );
    });
    const lines = stderr.lines();
    stderr.restore();
    expect(lines.filter((l) => String(l.msg).startsWith('Sentry reporting of health checks is off'))).toEqual([
      expect.objectContaining({ level: 40, name: '@infra/monitoring', reason: '@sentry/node is not installed' }),
    ]);
    // The failure itself went to the default error monitor's log transport, once.
    expect(lines.filter((l) => l.domain === 'health')).toEqual([
      expect.objectContaining({
        level: 50,
        msg: '[health] HealthCheckFailedError: Critical health check "database" failed: connect ECONNREFUSED 127.0.0.1:5432',
      }),
    ]);
  });

  it('run the documented error snippet as written on the default log transport', () => {
    const stderr = stderrLines();
    const req = { user: { id: 'user-1' }, params: { id: 'challenge-1' } };
    errorMonitor.registerDomain('challenge', {
      shouldCapture: (error) => {
        return error.code !== 'CHALLENGE_NOT_FOUND';
      },
    });
    for (const code of ['CHALLENGE_NOT_FOUND', 'CHALLENGE_LOCKED']) {
      const error = Object.assign(new Error(`Challenge ${req.params.id}: ${code}`), { code });
      errorMonitor.captureError(error, {
        domain: 'challenge',
        user: { id: req.user.id },
        context: { challengeId: req.params.id },
      });
    }
    const lines = stderr.lines();
    stderr.restore();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        domain: 'challenge',
        user: { id: 'user-1' },
        context: { challengeId: 'challenge-1' },
        error: expect.objectContaining({ code: 'CHALLENGE_LOCKED' }),
      }),
    ]);
  });

  it('share one metrics registry that starts empty and is fed by the other monitors', async () => {
    expect(await metricsCollector.metrics()).not.toContain('openai_');
    const client = { on: () => () => {} };
    openaiMonitor.attach(client)();
    await performanceMonitor.measure('noop', () => 1);
    const text = await metricsCollector.metrics();
    expect(text).toContain('openai_requests_total');
    expect(text).toContain('perf_operation_duration_seconds_count{operation="noop",outcome="ok"} 1');
    expect(performanceMonitor.isRunning).toBe(false);
  });
});

describe('entry points', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? files(join(dir, entry.name))
        : entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')
          ? [join(dir, entry.name)]
          : [],
    );

  it('import optional peers only as types or through a lazy import()', () => {
    const offenders = files(import.meta.dirname).filter((file) =>
      /^import\s+(?!type\b)[^;]*from\s+'(fastify|@sentry\/node)'/m.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
    const lazy = files(import.meta.dirname).filter((file) =>
      readFileSync(file, 'utf8').includes("import('@sentry/node')"),
    );
    expect(lazy.map((f) => f.slice(import.meta.dirname.length + 1))).toEqual([join('sentry', 'transport.ts')]);
  });

  it('the Sentry transport fails with MISSING_PEER naming the package when it is absent', async () => {
    const { sentryTransport } = await import('./sentry/index.js');
    await expect(sentryTransport().ready()).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: 'Reporting to Sentry needs the optional peer "@sentry/node": install it with `npm install @sentry/node`',
    });
  });
});
