import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorMonitor } from '../error-monitor.js';
import { HealthCheckScheduler } from '../health-check-scheduler.js';
import { isSentryInitialized, loadSentry, sentryTransport, type SentryTransport } from './index.js';

// A local HTTP endpoint standing in for Sentry's ingest API: it records every envelope.
interface Envelope {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: Record<string, unknown> }[];
}
const envelopes: Envelope[] = [];
let server: Server;
let dsn: string;
let transport: SentryTransport;

function parseEnvelope(body: string): Envelope {
  const lines = body.split('\n').filter((line) => line.length > 0);
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  const items: Envelope['items'] = [];
  for (let i = 1; i + 1 < lines.length; i += 2) {
    items.push({ header: JSON.parse(lines[i]!), payload: JSON.parse(lines[i + 1]!) });
  }
  return { header, items };
}

function events(): Record<string, unknown>[] {
  return envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload));
}

// Loading @sentry/node (and OpenTelemetry under it) takes seconds on a busy CI machine; these tests
// do real SDK delivery over HTTP, so they get more time than vitest's 5 s default.
const SDK_TIMEOUT_MS = 60_000;

beforeAll(async () => {
  await loadSentry();
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      if (request.url?.startsWith('/api/1/envelope/')) envelopes.push(parseEnvelope(body.toString('utf8')));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  dsn = `http://publickey@127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/1`;
  transport = sentryTransport({ dsn, init: { defaultIntegrations: false, tracesSampleRate: 0, environment: 'test' } });
}, SDK_TIMEOUT_MS);

afterAll(async () => {
  await transport.close?.(2000);
  await new Promise((resolve) => server.close(resolve));
});

describe('@infra/monitoring/sentry', { timeout: SDK_TIMEOUT_MS }, () => {
  it('delivers a scrubbed event with tags, user, context and fingerprint to the Sentry endpoint', async () => {
    const monitor = new ErrorMonitor({ transports: [transport] });
    monitor.registerDomain('challenge', { tags: { team: 'games' } });
    const result = monitor.captureError(
      Object.assign(new Error('Upstream refused key sk-abcdefghijklmnopqrstuvwx1234'), { code: 'UPSTREAM' }),
      {
        domain: 'challenge',
        user: { id: 'u-7', password: 'pw-123' },
        context: { challengeId: 'c-1', headers: { authorization: 'Bearer tok-999' } },
      },
    );
    expect(result.captured).toBe(true);
    expect(await monitor.flush(20_000)).toBe(true);

    const sent = events();
    expect(sent).toHaveLength(1);
    const event = sent[0]! as {
      event_id: string;
      level: string;
      tags: Record<string, string>;
      user: Record<string, unknown>;
      contexts: Record<string, Record<string, unknown>>;
      fingerprint: string[];
      exception: { values: { type: string; value: string }[] };
      environment: string;
    };
    expect(event.event_id).toBe(result.captured && result.id);
    expect(event.level).toBe('error');
    expect(event.environment).toBe('test');
    expect(event.tags).toMatchObject({ domain: 'challenge', team: 'games' });
    expect(event.user).toMatchObject({ id: 'u-7', password: '[REDACTED]' });
    expect(event.contexts.context).toMatchObject({ challengeId: 'c-1', headers: { authorization: '[REDACTED]' } });
    expect(event.fingerprint).toEqual(result.captured ? result.event.fingerprintParts : []);
    expect(event.exception.values[0]).toMatchObject({ type: 'Error', value: 'Upstream refused key [REDACTED]' });
    const wire = JSON.stringify(envelopes);
    expect(wire).not.toMatch(/sk-abcdef|pw-123|tok-999/);
  });

  it('lets the scheduler report failing critical checks to the initialised Sentry', async () => {
    const before = events().length;
    const scheduler = new HealthCheckScheduler({
      errorMonitor: new ErrorMonitor({ transports: [] }),
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    scheduler.registerHealthCheck(
      'database',
      async () => ({ status: 'unhealthy', message: 'too many connections' }),
      true,
    );
    scheduler.startHealthChecks({ intervalMs: 60000, logAllChecks: false, sendToSentry: true, runImmediately: false });
    await scheduler.runHealthChecks();
    await scheduler.close();
    expect(await transport.flush!(20_000)).toBe(true);
    const reported = events().slice(before) as {
      exception: { values: { type: string; value: string }[] };
      tags: Record<string, string>;
    }[];
    expect(reported).toHaveLength(1);
    expect(reported[0]!.exception.values[0]).toMatchObject({
      type: 'HealthCheckFailedError',
      value: 'Critical health check "database" failed: too many connections',
    });
    expect(reported[0]!.tags).toMatchObject({ check: 'database', domain: 'health' });
  });

  it('loads @sentry/node lazily and knows whether it is initialised', async () => {
    const sentry = await loadSentry();
    expect(isSentryInitialized(sentry)).toBe(true);
    expect(() => sentryTransport({ sentry: {} as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
