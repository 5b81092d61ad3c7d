import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildIfStale, databaseUrl, eventually, redisUrl, uniqueName } from '@infra/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient } from './http-client.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
import { deleteTestKeys } from './redis-client.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const FIRST_SEEDED = '00000000-0000-4000-8000-000000000001';

// The service runs as `node dist/main.js` does in production: build it when it is missing or older
// than a source file.
beforeAll(() => {
  buildIfStale(root, 'main.js');
}, 120_000);

interface Service {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
}

/** Starts the demo with tracing to `receiver`, on its own schema and Redis prefix. */
async function startService(receiver: OtlpReceiver, protocol: string, schema: string, prefix: string) {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: root,
    env: {
      ...process.env,
      // The bus on Redis Streams, as asserted below, even where the environment names a broker (the
      // messaging package's tracing tests check that Kafka's headers carry the same context).
      MESSAGING: 'redis',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      HEALTH_INTERVAL_MS: '600000',
      SHUTDOWN_READINESS_DELAY_MS: '0',
      OTEL_SERVICE_NAME: 'challenges-e2e',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      // Export each batch soon, so that the test does not wait for the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(output) || child.exitCode !== null,
    120_000,
    100,
  );
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  if (!(port > 0)) throw new Error(`the service did not start:\n${output}`);
  return { child, baseUrl: `http://127.0.0.1:${port}`, output: () => output } satisfies Service;
}

async function stopService(service: Service | undefined): Promise<void> {
  const child = service?.child;
  if (child === undefined || child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function cleanUp(schema: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
  await deleteTestKeys(prefix);
}

/** The spans of one trace, with helpers to walk it. */
function traceOf(spans: ReceivedSpan[], traceId: string) {
  const members = spans.filter((span) => span.traceId === traceId);
  const byId = new Map(members.map((span) => [span.spanId, span]));
  const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
    const chain: ReceivedSpan[] = [];
    for (let at = span.parentSpanId; at !== undefined; at = byId.get(at)?.parentSpanId) {
      const parent = byId.get(at);
      if (parent === undefined) break;
      chain.push(parent);
    }
    return chain;
  };
  return { members, byId, ancestors };
}

// One request, traced from the HTTP edge to the consumer's queries, for each OTLP/HTTP encoding.
describe.each(['http/json', 'http/protobuf'])('one trace per request, exported as %s', (protocol) => {
  const schema = uniqueName('demo_tracing');
  const prefix = `${uniqueName('demo_tracing')}:`;
  let receiver: OtlpReceiver;
  let service: Service | undefined;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    service = await startService(receiver, protocol, schema, prefix);
  }, 180_000);

  afterAll(async () => {
    await stopService(service);
    await receiver.close();
    await cleanUp(schema, prefix);
  }, 60_000);

  it('holds the server span, the transaction and its queries, the outbox publish and the consumer', async () => {
    const run = service as Service;
    const http = httpClient(run.baseUrl);
    const userId = `tracing-${protocol.replace('/', '-')}`;
    expect((await http('POST', '/v1/users', { id: userId, name: 'Tracer' })).status).toBe(201);
    // The caller's trace: the server span continues it, and the request id comes back as given.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const done = await http(
      'POST',
      `/v1/challenges/${FIRST_SEEDED}/complete`,
      { userId, score: 7 },
      { traceparent: `00-${traceId}-${callerSpan}-01`, 'x-request-id': `req-${userId}` },
    );
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(done.headers.get('x-request-id')).toBe(`req-${userId}`);

    // The consumer's span arrives last (after the relay and the broker): wait for it.
    const processed = (): ReceivedSpan | undefined =>
      receiver.spans.find(
        (span) => span.traceId === traceId && span.kind === 'consumer' && span.name === 'process challenge.completed',
      );
    await eventually(() => processed() !== undefined, 60_000, 100);
    // The handler's transaction is exported with or after its parent's end: wait for its commit.
    await eventually(
      () => traceOf(receiver.spans, traceId).members.some((span) => span.parentSpanId === processed()?.spanId),
      30_000,
      100,
    );
    const trace = traceOf(receiver.spans, traceId);
    const names = trace.members.map((span) => `${span.kind} ${span.name}`).sort();

    // The HTTP server span is the child of the caller's span.
    const servers = trace.members.filter((span) => span.kind === 'server');
    expect(servers, names.join('\n')).toHaveLength(1);
    const server = servers[0] as ReceivedSpan;
    expect(server.parentSpanId).toBe(callerSpan);

    // The unit of work's transaction and its queries sit under the server span.
    const dbSpans = trace.members.filter(
      (span) =>
        span.kind === 'client' && (span.attributes['db.system.name'] ?? span.attributes['db.system']) === 'postgresql',
    );
    const requestDb = dbSpans.filter((span) => trace.ancestors(span).includes(server));
    expect(requestDb.length, names.join('\n')).toBeGreaterThan(0);

    // The outbox publish: a producer span under the server span, the message created (not sent) there.
    const producer = trace.members.find(
      (span) => span.kind === 'producer' && span.name === 'publish challenge.completed',
    );
    expect(producer, names.join('\n')).toBeDefined();
    expect(trace.ancestors(producer as ReceivedSpan)).toContain(server);
    expect(producer?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': 'challenge.completed',
      'messaging.operation.type': 'create',
      // The correlation id follows the request id.
      'messaging.message.conversation_id': `req-${userId}`,
    });

    // The consumer's process span: a child of the producer span, linked to it.
    const consumer = processed() as ReceivedSpan;
    expect(consumer.parentSpanId).toBe(producer?.spanId);
    expect(consumer.links).toContainEqual({ traceId, spanId: producer?.spanId });
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': expect.any(String),
      'messaging.message.id': producer?.attributes['messaging.message.id'],
      'messaging.message.conversation_id': `req-${userId}`,
    });

    // The handler's transaction and queries sit under the consumer span.
    const handlerDb = dbSpans.filter((span) => trace.ancestors(span).includes(consumer));
    expect(handlerDb.length, names.join('\n')).toBeGreaterThan(0);

    // The relay sent the stored message in a trace of its own, linked to the producer span.
    const send = receiver.spans.find(
      (span) => span.name === 'send challenge.completed' && span.links.some((link) => link.spanId === producer?.spanId),
    );
    expect(send?.kind).toBe('client');
    expect(send?.traceId).not.toBe(traceId);
    expect(receiver.spans.some((span) => span.parentSpanId === send?.spanId && span.name === 'xadd')).toBe(true);
    // The relay's own queries, though its run was nudged by the request's commit, are not the request's.
    const relayQueries = trace.members.filter((span) => String(span.attributes['db.query.text']).includes('sent_at'));
    expect(relayQueries.map((span) => span.name)).toEqual([]);

    expect([...receiver.contentTypes]).toEqual([
      protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
    ]);
  }, 120_000);
});
