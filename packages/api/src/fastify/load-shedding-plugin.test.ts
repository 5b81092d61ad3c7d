import { databaseUrl, eventually } from '@infra/test-utils';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../errors.js';
import { loadSheddingPlugin, type LoadSheddingOptions } from './load-shedding-plugin.js';
import { registrationError } from '../../test/plugin-registration.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function build(options: LoadSheddingOptions, handler: () => Promise<unknown> = async () => 'ok') {
  const app = Fastify({ logger: false });
  apps.push(app);
  await app.register(loadSheddingPlugin, options);
  app.get('/work', handler);
  app.get('/health/ready', async () => 'ready');
  await app.ready();
  return app;
}

describe('loadSheddingPlugin', () => {
  it('refuses requests with a 503 problem while a real pg pool has callers waiting, and recovers', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, application_name: 'api-load-shedding-test' });
    pool.on('error', () => {});
    let handlerRuns = 0;
    try {
      const app = await build(
        { pool, maxPoolWaiting: 0, maxEventLoopDelayMs: 0, skip: (request) => request.url.startsWith('/health') },
        async () => {
          handlerRuns += 1;
          const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
          return rows[0];
        },
      );
      expect((await app.inject('/work')).statusCode).toBe(200);
      const held = await pool.connect();
      const queued = pool.query('SELECT 2');
      expect(pool.waitingCount).toBe(1);
      const runsBefore = handlerRuns;
      const shed = await app.inject('/work?q=1');
      expect(shed.statusCode).toBe(503);
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(shed.json()).toMatchObject({ status: 503, code: 'OVERLOADED', instance: '/work' });
      // Refused before the handler: no work was queued behind the others.
      expect(handlerRuns).toBe(runsBefore);
      expect((await app.inject('/health/ready')).statusCode).toBe(200);
      held.release();
      await queued;
      expect((await app.inject('/work')).statusCode).toBe(200);
    } finally {
      await pool.end();
    }
  });

  it('reads the queue of an @infra/persistence driver through stats()', async () => {
    const driver = { waiting: 0, stats: () => ({ waiting: driver.waiting }) };
    const app = await build({ pool: driver, maxPoolWaiting: 3, maxEventLoopDelayMs: 0 });
    driver.waiting = 3;
    expect((await app.inject('/work')).statusCode).toBe(200);
    driver.waiting = 4;
    expect((await app.inject('/work')).statusCode).toBe(503);
  });

  it('refuses requests while the event loop is blocked, then serves again', async () => {
    const app = await build({ maxEventLoopDelayMs: 200, sampleIntervalMs: 1000, retryAfterMs: 2500 });
    // Block the loop past a whole sampling interval: the next sample sees the delay.
    let shed: { statusCode: number; headers: Record<string, unknown> } | undefined;
    await eventually(async () => {
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        // busy: this is the overload
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      const response = await app.inject('/work');
      if (response.statusCode === 503) shed = response;
      return shed !== undefined;
    }, 60_000);
    expect(shed?.headers['retry-after']).toBe('3');
    await eventually(async () => (await app.inject('/work')).statusCode === 200, 60_000);
  });

  it('refuses bad options with INVALID_OPTION naming the value', async () => {
    const bad: unknown[] = [
      { pool: {} },
      { maxPoolWaiting: 3 },
      { maxEventLoopDelayMs: -1 },
      { gauges: [{ name: 'queue', value: 3, max: 1 }] },
      { retryAfterMs: 0 },
    ];
    for (const options of bad) {
      expect(isApiError(await registrationError(loadSheddingPlugin, options), 'INVALID_OPTION')).toBe(true);
    }
  });
});
