// One benchmark target in its own process, so the load generator does not share its CPU:
//   node bench/server.mjs stack     the whole service, cache on (embedded defaults unless env says otherwise)
//   node bench/server.mjs nocache   the whole service with CACHE_ENABLED=false
//   node bench/server.mjs bare      a bare Fastify route answering the JSON read from stdin
// Prints "READY <port>" once listening; exits on SIGTERM. With OTEL_TRACES_EXPORTER set, the
// service targets start the OpenTelemetry SDK first, as dist/main.js does.
import Fastify from 'fastify';

const mode = process.argv[2];
const telemetry =
  mode === 'bare' ? undefined : await (await import('../dist/telemetry.js')).startTelemetry(process.env);
const { buildApp } = await import('../dist/app.js');
const { loadConfig } = await import('../dist/config.js');

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

let app;
let close;
if (mode === 'bare') {
  const body = await readStdin();
  app = Fastify({ logger: false });
  app.get('/v1/challenges/:id', async () => body);
  await app.ready();
  close = () => app.close();
} else if (mode === 'stack' || mode === 'nocache') {
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    CACHE_ENABLED: mode === 'stack' ? 'true' : 'false',
    // The benchmark measures the read path: keep the background checks out of the way.
    HEALTH_INTERVAL_MS: '600000',
  });
  const demo = await buildApp(config, { exit: false, ...(telemetry === undefined ? {} : { telemetry }) });
  app = demo.app;
  close = () => demo.close();
} else {
  process.stderr.write(`usage: server.mjs stack|nocache|bare (got ${String(mode)})\n`);
  process.exit(2);
}

process.once('SIGTERM', () => {
  void Promise.resolve(close()).finally(() => process.exit(0));
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`READY ${app.server.address().port}\n`);
