import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { closedPort, databaseUrl, redisUrl } from '@infra/test-utils';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthCheckService } from '../health-check-service.js';
import { isHealthError } from '../errors.js';
import { httpCheck, tcpCheck } from './network-checks.js';
import { postgresCheck } from './postgres-check.js';
import { redisCheck } from './redis-check.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve((server.address() as { port: number }).port);
    });
    cleanups.push(() => new Promise((done) => server.close(done)));
  });
}

describe('built-in checks', () => {
  it('postgresCheck passes on a real pool, then warns with callers waiting, and fails when it is gone', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, application_name: 'health-checks-test' });
    pool.on('error', () => {});
    let ended = false;
    cleanups.push(async () => {
      if (!ended) await pool.end();
    });
    const service = new HealthCheckService({ cacheTtlMs: 0, defaultTimeoutMs: 20_000 });
    service.register('database', postgresCheck({ client: pool, warnSaturation: 1 }), true);

    const healthy = await service.run();
    expect(healthy.status).toBe('pass');
    expect(healthy.checks[0]).toMatchObject({ observedUnit: 'ms', details: { pool: { max: 1, waiting: 0 } } });

    const service2 = new HealthCheckService({ cacheTtlMs: 0, defaultTimeoutMs: 20_000 });
    service2.register(
      'database',
      postgresCheck({ client: pool, stats: () => ({ max: 1, inUse: 1, waiting: 2 }) }),
      true,
    );
    const warned = await service2.run();
    expect(warned.checks[0]).toMatchObject({ status: 'warn', output: '1/1 connections in use, 2 waiting' });

    await pool.end();
    ended = true;
    const gone = await service.run();
    expect(gone.status).toBe('fail');
  });

  it('redisCheck pings a real Redis, and fails against a closed port', async () => {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    cleanups.push(async () => {
      client.disconnect();
    });
    const dead = new Redis({
      port: await closedPort(),
      host: '127.0.0.1',
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    dead.on('error', () => {});
    cleanups.push(async () => {
      dead.disconnect();
    });
    const service = new HealthCheckService({ cacheTtlMs: 0, defaultTimeoutMs: 20_000 });
    service.register('redis', redisCheck({ client }), true);
    service.register('dead-redis', redisCheck({ client: dead }), { critical: false, timeoutMs: 5000 });
    const report = await service.run();
    expect(report.checks.find((c) => c.name === 'redis')).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    expect(report.checks.find((c) => c.name === 'dead-redis')?.status).toBe('fail');
    expect(report.status).toBe('warn');
  });

  it('tcpCheck and httpCheck pass on live servers and fail on a closed port or a bad status', async () => {
    const tcpPort = await listen(createTcpServer((socket) => socket.destroy()));
    let status = 200;
    const httpPort = await listen(
      createHttpServer((_request, response) => {
        response.statusCode = status;
        response.end('ok');
      }),
    );
    const closed = await closedPort();
    const service = new HealthCheckService({ cacheTtlMs: 0, defaultTimeoutMs: 20_000 });
    service.register('tcp', tcpCheck({ host: '127.0.0.1', port: tcpPort }));
    service.register('tcp-closed', tcpCheck({ host: '127.0.0.1', port: closed }));
    service.register('http', httpCheck({ url: `http://127.0.0.1:${httpPort}/health` }));
    const byName = async () => Object.fromEntries((await service.run()).checks.map((c) => [c.name, c]));
    let checks = await byName();
    expect(checks.tcp?.status).toBe('pass');
    expect(checks['tcp-closed']).toMatchObject({ status: 'fail' });
    expect(checks['tcp-closed']?.output).toContain(`127.0.0.1:${closed}`);
    expect(checks.http).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    status = 503;
    checks = await byName();
    expect(checks.http).toMatchObject({ status: 'fail' });
    expect(checks.http?.output).toContain('answered 503');
  });

  it('httpCheck is aborted by the check timeout when the server never answers', async () => {
    const port = await listen(createHttpServer(() => {}));
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    service.register('stalled', httpCheck({ url: `http://127.0.0.1:${port}/` }), { timeoutMs: 300 });
    const report = await service.run();
    expect(report.checks[0]).toMatchObject({ status: 'fail', error: { code: 'CHECK_TIMEOUT' } });
  });

  it('refuses bad options with INVALID_OPTION naming the value', () => {
    const attempts = [
      () => postgresCheck({ client: {} as never }),
      () => postgresCheck({ client: { query: async () => 1 }, warnSaturation: 2 }),
      () => redisCheck({ client: null as never }),
      () => tcpCheck({ host: '', port: 1 }),
      () => tcpCheck({ host: 'x', port: 70_000 }),
      () => httpCheck({ url: 'ftp://x' }),
    ];
    for (const attempt of attempts) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(isHealthError(thrown, 'INVALID_OPTION')).toBe(true);
    }
  });
});
