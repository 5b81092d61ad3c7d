import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HealthCheckService } from '../health-check-service.js';
import { HealthCheckController, healthCheckController } from './index.js';

const apps: FastifyInstance[] = [];

async function appWith(service: HealthCheckService, options: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  await app.register(healthCheckController, { service, ...options });
  await app.ready();
  return app;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('@infra/health/fastify', () => {
  it('answers /health/live without touching any dependency', async () => {
    const service = new HealthCheckService();
    const check = vi.fn(() => false);
    service.register('db', check, true);
    const app = await appWith(service, { exposeDetails: true });
    const response = await app.inject('/health/live');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/health\+json(;|$)/);
    expect(response.json()).toEqual({ status: 'pass', checks: {} });
    expect(check).not.toHaveBeenCalled();
  });

  it('answers /health/ready with 503 within the timeout of a check that hangs forever', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    service.register('db', () => new Promise(() => {}), { critical: true, timeoutMs: 100 });
    service.register('cache', () => ({ status: 'ok' }), true);
    const app = await appWith(service, { exposeDetails: true });
    const response = await app.inject('/health/ready');
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body.status).toBe('fail');
    expect(body.checks.db[0]).toMatchObject({
      status: 'fail',
      output: 'Health check "db" timed out after 100 ms',
      critical: true,
    });
    expect(body.checks.cache[0].status).toBe('pass');
  });

  it('serves /health in application/health+json keyed by component:measurement', async () => {
    const service = new HealthCheckService();
    service.register('postgres', () => ({ status: 'pass', observedValue: 12, observedUnit: 'ms' }), {
      critical: true,
      measurement: 'responseTime',
      componentType: 'datastore',
      componentId: 'primary',
    });
    service.register('mail', () => ({ status: 'down', message: 'smtp refused' }));
    const app = await appWith(service, { exposeDetails: true, info: { serviceId: 'challenges', version: '1' } });
    const response = await app.inject('/health');
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body).toMatchObject({ status: 'warn', serviceId: 'challenges', version: '1' });
    expect(body.checks['postgres:responseTime'][0]).toMatchObject({
      status: 'pass',
      observedValue: 12,
      observedUnit: 'ms',
      componentType: 'datastore',
      componentId: 'primary',
    });
    expect(Date.parse(body.checks['postgres:responseTime'][0].time as string)).not.toBeNaN();
    expect(body.checks.mail[0]).toMatchObject({ status: 'fail', output: 'smtp refused', critical: false });
  });

  it('shows no details by default: a public probe gets the status alone', async () => {
    const service = new HealthCheckService();
    service.register(
      'db',
      () => ({ status: 'pass', message: 'pool 3/10 in use', details: { pool: { max: 10 } } }),
      true,
    );
    const app = await appWith(service);
    for (const url of ['/health', '/health/ready', '/health/startup']) {
      const response = await app.inject(url);
      expect(response.statusCode).toBe(200);
      expect(response.json(), url).toEqual({ status: 'pass' });
    }
  });

  it('asks allowDetails, when given, who gets details', async () => {
    const service = new HealthCheckService();
    service.register('db', () => ({ status: 'pass', message: 'pool 3/10 in use' }), true);
    const app = await appWith(service, {
      detailToken: 'ignored-here',
      allowDetails: (request: { headers: Record<string, unknown> }) => request.headers['x-role'] === 'ops',
    });
    expect((await app.inject('/health')).json()).toEqual({ status: 'pass' });
    const ops = await app.inject({ url: '/health', headers: { 'x-role': 'ops' } });
    expect(ops.json().checks.db[0].output).toBe('pool 3/10 in use');
    await expect(
      Fastify().register(healthCheckController, { service, allowDetails: 'ops' as never }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'allowDetails' });
  });

  it('shows details only to requests carrying the token', async () => {
    const service = new HealthCheckService();
    service.register('db', () => ({ status: 'pass', message: 'internal host db-7.local' }), true);
    const app = await appWith(service, { detailToken: 's3cret', prefix: '/_health/' });
    const anonymous = await app.inject('/_health');
    expect(anonymous.json()).toEqual({ status: 'pass' });
    const wrong = await app.inject({ url: '/_health', headers: { authorization: 'Bearer guess' } });
    expect(wrong.json()).toEqual({ status: 'pass' });
    const bearer = await app.inject({ url: '/_health', headers: { authorization: 'Bearer s3cret' } });
    expect(bearer.json().checks.db[0].output).toBe('internal host db-7.local');
    const header = await app.inject({ url: '/_health/ready', headers: { 'x-health-token': 's3cret' } });
    expect(header.json().checks.db).toHaveLength(1);
  });

  it('reports startup as 503 until the critical checks have passed once', async () => {
    const service = new HealthCheckService({ cacheTtlMs: 0 });
    let up = false;
    service.register('db', () => up, true);
    const app = await appWith(service, { exposeDetails: false });
    expect((await app.inject('/health/startup')).statusCode).toBe(503);
    up = true;
    expect((await app.inject('/health/startup')).statusCode).toBe(200);
    up = false;
    expect((await app.inject('/health/startup')).statusCode).toBe(200);
    expect((await app.inject('/health/ready')).json()).toEqual({ status: 'fail' });
  });

  it('turns readiness to fail when the server begins to close, and exposes the service', async () => {
    const service = new HealthCheckService();
    const app = Fastify();
    await app.register(HealthCheckController, { service });
    expect(app.healthCheckService).toBe(service);
    await app.close();
    expect(service.isShuttingDown).toBe(true);
  });

  it('rejects a missing or wrong service', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(healthCheckController, { service: {} as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'service',
    });
  });
});
