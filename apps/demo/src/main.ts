import type { AppConfig, MessagingTransport } from './config.js';
import { isDemoError } from './errors.js';
import { startTelemetry } from './telemetry.js';

// Tracing starts before the service's modules load, so that its instrumentations see them load.
const telemetry = await orExit(() => startTelemetry(process.env));
const { buildApp } = await import('./app.js');
const { loadConfig } = await import('./config.js');

async function orExit<T>(read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isDemoError(error, 'INVALID_CONFIG')) {
      // The message names the variable and never contains a secret.
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const BUS_NAMES: Record<MessagingTransport, string> = {
  memory: 'memory',
  redis: 'Redis Streams',
  kafka: 'Kafka',
  rabbitmq: 'RabbitMQ',
  nats: 'NATS JetStream',
  postgres: 'Postgres queue',
};

function describeBackends(config: AppConfig): string {
  return [
    config.database.url === undefined
      ? `database: PGlite (${config.database.pgliteDataDir ?? 'in memory'})`
      : 'database: Postgres',
    config.cacheEnabled ? `cache: ${config.redis.url === undefined ? 'memory' : 'Redis'}` : 'cache: off',
    `bus: ${BUS_NAMES[config.messaging]}`,
    `OpenAI: ${config.openai === undefined ? 'off (templates)' : (config.openai.baseURL ?? 'api.openai.com')}`,
    `tracing: ${telemetry === undefined ? 'off' : 'on'}`,
  ].join(', ');
}

const config = await orExit(() => loadConfig(process.env));
const demo = await buildApp(config, telemetry === undefined ? {} : { telemetry });
// SIGTERM / SIGINT: readiness fails, in-flight requests drain, resources close, the process exits.
demo.shutdown.installSignalHandlers();
try {
  await demo.app.listen({ port: config.port, host: config.host });
} catch (error) {
  process.stderr.write(
    `Cannot listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  await demo.close({ reason: 'listen failed' });
  process.exit(1);
}
const address = demo.app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : config.port;
const shownHost =
  config.host === '0.0.0.0' || config.host === '::'
    ? 'localhost'
    : config.host.includes(':')
      ? `[${config.host}]`
      : config.host;
const url = `http://${shownHost}:${port}`;
process.stdout.write(
  `Challenges service listening on ${url}\n` +
    `  API docs: ${url}/docs   health: ${url}/health   metrics: ${url}/metrics\n` +
    `  ${describeBackends(config)}\n` +
    '  Press Ctrl-C to stop.\n',
);
