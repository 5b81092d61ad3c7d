import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GracefulShutdown, type ShutdownReport } from './graceful-shutdown.js';
import { HealthCheckService } from './health-check-service.js';
import { healthCheckController } from './fastify/index.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('GracefulShutdown', () => {
  it('fails readiness first, drains an in-flight request, then closes resources in reverse order', async () => {
    const service = new HealthCheckService();
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(healthCheckController, { service, exposeDetails: true });
    const release = deferred();
    const entered = deferred();
    app.get('/slow', async () => {
      entered.resolve();
      await release.promise;
      return { done: true };
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });

    const order: string[] = [];
    // The readiness probe below must reach the server within the readiness delay: a generous one.
    const shutdown = new GracefulShutdown({
      health: service,
      server: app,
      readinessDelayMs: 1500,
      deadlineMs: 20_000,
    });
    shutdown.register('database', () => order.push('database'));
    shutdown.register('redis', async () => {
      order.push('redis');
    });
    shutdown.register('consumer', () => order.push('consumer'));

    expect((await fetch(`${address}/health/ready`)).status).toBe(200);
    const inFlight = fetch(`${address}/slow`);
    await entered.promise;

    const done = shutdown.shutdown('SIGTERM');
    // During the readiness delay the server still answers, and readiness already fails.
    const ready = await fetch(`${address}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'fail', output: 'shutting down' });
    expect(order).toEqual([]);

    release.resolve();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });

    const report = await done;
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.name)).toEqual([
      'readiness',
      'readiness-delay',
      'server',
      'consumer',
      'redis',
      'database',
    ]);
    expect(order).toEqual(['consumer', 'redis', 'database']);
    expect(await shutdown.shutdown()).toBe(report);
    await expect(fetch(`${address}/health/live`)).rejects.toThrow();
  });

  it('bounds each closer and the whole shutdown by its deadline', async () => {
    const closed: string[] = [];
    // Wide margins: the outcome holds unless the first timer fires two seconds late.
    const shutdown = new GracefulShutdown({ deadlineMs: 3000, closerTimeoutMs: 1000 });
    shutdown.register('never-starts', () => closed.push('never-starts'));
    shutdown.register('hangs-too', () => new Promise(() => {}), { timeoutMs: 2500 });
    shutdown.register('fails', () => {
      throw new Error('pool already ended');
    });
    shutdown.register('hangs', () => new Promise(() => {}));
    const report = await shutdown.shutdown();
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['hangs', 'timeout'],
      ['fails', 'error'],
      ['hangs-too', 'timeout'],
      ['never-starts', 'skipped'],
    ]);
    expect(report.steps[1]!.error).toBe('pool already ended');
    expect(closed).toEqual([]);
    expect(() => shutdown.register('late', () => undefined)).toThrow(/shutdown has already begun/);
  });

  it('runs on a signal, exits with the outcome, and removes its handlers', async () => {
    const before = process.listenerCount('SIGTERM');
    const exit = vi.fn();
    const closer = vi.fn();
    const shutdown = new GracefulShutdown({ signals: ['SIGTERM'], exit });
    shutdown.register('db', closer);
    const remove = shutdown.installSignalHandlers();
    cleanups.push(remove);
    shutdown.installSignalHandlers();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);

    process.emit('SIGTERM', 'SIGTERM');
    await vi.waitFor(
      () => {
        expect(exit).toHaveBeenCalledWith(0);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(closer).toHaveBeenCalledTimes(1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(exit).toHaveBeenLastCalledWith(1);

    remove();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('close() shuts down within its timeout, removes the signal handlers and never exits', async () => {
    const before = process.listenerCount('SIGTERM');
    const exit = vi.fn();
    const closed: string[] = [];
    const shutdown = new GracefulShutdown({ signals: ['SIGTERM'], exit, deadlineMs: 60_000 });
    shutdown.register('db', () => closed.push('db'));
    shutdown.register('hangs', () => new Promise(() => {}));
    cleanups.push(shutdown.installSignalHandlers());
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);

    // The hanging closer would hold a shutdown for its closerTimeoutMs (5 s); close's budget cuts it.
    const report = await shutdown.close({ timeoutMs: 300, reason: 'tests done' });
    expect(report).toMatchObject({ reason: 'tests done', ok: false });
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['hangs', 'timeout'],
      ['db', 'skipped'],
    ]);
    expect(closed).toEqual([]);
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(exit).not.toHaveBeenCalled();
    expect(shutdown.isShuttingDown).toBe(true);
    expect(await shutdown.close()).toBe(report);
    expect(await shutdown.shutdown('again')).toBe(report);
  });

  it('is disposable, and close() after shutdown() returns the same report', async () => {
    const service = new HealthCheckService();
    const closer = vi.fn();
    let report: ShutdownReport | undefined;
    {
      await using shutdown = new GracefulShutdown({ health: service });
      shutdown.register('db', closer);
      report = await shutdown.shutdown('SIGTERM');
      expect(await shutdown.close({ reason: 'ignored: already shut down' })).toBe(report);
    }
    expect(report).toMatchObject({ reason: 'SIGTERM', ok: true });
    expect(closer).toHaveBeenCalledTimes(1);
    expect(service.isShuttingDown).toBe(true);

    const disposed = new GracefulShutdown({ health: new HealthCheckService() });
    disposed.register('db', closer);
    await disposed[Symbol.asyncDispose]();
    expect(closer).toHaveBeenCalledTimes(2);
    expect(disposed.isShuttingDown).toBe(true);
  });

  it('validates its options', () => {
    expect(() => new GracefulShutdown({ deadlineMs: 0 })).toThrow(/"deadlineMs".*got 0/);
    expect(() => new GracefulShutdown({ server: {} as never })).toThrow(/"server.close"/);
    expect(() => new GracefulShutdown().register('x', 1 as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    expect(() => new GracefulShutdown().register('x', () => undefined, { timeoutMs: 0 })).toThrow(/"timeoutMs".*got 0/);
    return expect(new GracefulShutdown().close({ timeoutMs: -5 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'timeoutMs',
      value: -5,
    });
  });
});
