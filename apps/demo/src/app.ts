// Type-only: adds the OpenAPI fields (tags, summary, hide) to Fastify's route schema type.
import type {} from '@fastify/swagger';
import {
  apiVersionPlugin,
  corsPlugin,
  errorHandlerPlugin,
  loadSheddingPlugin,
  openApiPlugin,
  problemServerOptions,
  requestContextPlugin,
  requestIdServerOptions,
} from '@infra/api/fastify';
import { GracefulShutdown, type ShutdownCloseOptions, type ShutdownReport } from '@infra/health';
import { healthCheckController } from '@infra/health/fastify';
import { traceMixin } from '@infra/core';
import { metricsPlugin } from '@infra/monitoring/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { challengeRoutes } from './challenges/challenge-routes.js';
import { challengeSchema } from './challenges/challenge-schemas.js';
import { loadConfig, type AppConfig } from './config.js';
import { isDemoError } from './errors.js';
import { createResources, type Resources } from './platform/resources.js';
import type { Telemetry } from './telemetry.js';
import { userRoutes } from './users/user-routes.js';

export interface BuildOptions {
  /**
   * What a signal-triggered shutdown does at the end (see `GracefulShutdown`): `true` exits the
   * process, `false` only sets `process.exitCode`. `close()` never exits.
   * @default true
   */
  exit?: boolean | ((code: number) => void);
  /** The tracing SDK, closed (its last spans flushed) after every other resource. @default none */
  telemetry?: Telemetry;
  /**
   * Where Fastify's pino logger writes its lines (one JSON object each), e.g. to collect them.
   * @default stdout
   */
  logStream?: { write(line: string): void };
}

export interface DemoApp {
  /** The Fastify instance, ready (not listening: call `app.listen`). */
  app: FastifyInstance;
  /** The connected resources, for embedding and tests. */
  resources: Resources;
  /** The ordered shutdown; `installSignalHandlers()` on it wires SIGTERM/SIGINT. */
  shutdown: GracefulShutdown;
  /**
   * Readiness fails, in-flight requests drain, then every resource closes (newest first) within
   * `timeoutMs` (default `SHUTDOWN_DEADLINE_MS`). Never exits the process. Idempotent: later calls
   * return the same report.
   */
  close(options?: ShutdownCloseOptions): Promise<ShutdownReport>;
  /** {@link close} with its defaults, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const API_VERSION = '1.0.0';

/**
 * Builds the challenges service from `config`: creates and connects every resource (database
 * migrated and seeded), registers the plugins and routes, and returns the ready Fastify instance
 * with an ordered `close()`.
 */
export async function buildApp(config: AppConfig = loadConfig(), options: BuildOptions = {}): Promise<DemoApp> {
  const app = Fastify({
    // pino; every line written inside a span carries its trace_id and span_id.
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            mixin: traceMixin(),
            ...(options.logStream === undefined ? {} : { stream: options.logStream }),
          },
    // request.id: the caller's x-request-id when usable, else a new UUID.
    ...requestIdServerOptions(),
    // Unknown body fields are refused with a 400 rather than silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    // request.ip (rate limit keys, logs) is the forwarded client address only behind trusted proxies.
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    // At close: idle keep-alive sockets are closed at once, requests still arriving on a busy one
    // get a 503 with Connection: close, in-flight requests finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // 414, 431 and malformed URLs answered as problem details, like every other error.
    ...problemServerOptions(),
  });
  const logger = app.log;
  const { resources, closers } = await createResources(config, logger);
  const shutdown = new GracefulShutdown({
    health: resources.health,
    server: app,
    readinessDelayMs: config.shutdown.readinessDelayMs,
    deadlineMs: config.shutdown.deadlineMs,
    exit: options.exit ?? true,
    logger: logger.child({ component: 'shutdown' }),
  });
  // Registered first, closed last: the spans of the shutdown itself are exported too.
  const telemetry = options.telemetry;
  if (telemetry) shutdown.register('telemetry', () => telemetry.close());
  for (const closer of closers) shutdown.register(closer.name, closer.close);

  try {
    await registerHttp(app, config, resources);
    await app.ready();
  } catch (error) {
    await shutdown.close({ reason: 'failed start' });
    throw error;
  }
  return {
    app,
    resources,
    shutdown,
    close: (closeOptions) => shutdown.close(closeOptions),
    [Symbol.asyncDispose]: () => shutdown[Symbol.asyncDispose](),
  };
}

async function registerHttp(app: FastifyInstance, config: AppConfig, resources: Resources): Promise<void> {
  const { observability } = resources;
  // While closing, responses ask the client to hang up: a keep-alive connection that goes idle
  // after the listener closed would otherwise hold the drain open until the deadline.
  let draining = false;
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });
  // The request id comes back in x-request-id, and code serving the request reads it with
  // currentRequestContext(): the outbox writes it as the messages' correlation id (resources.ts).
  // The trace context is OpenTelemetry's: the server span of the HTTP instrumentation, when on.
  await app.register(requestContextPlugin);
  await app.register(errorHandlerPlugin, {
    production: config.production,
    mappings: {
      INSUFFICIENT_POINTS: { status: 409, title: 'Insufficient points' },
      INVALID_TRANSFER: { status: 400, title: 'Invalid transfer' },
    },
  });
  // HTTP metrics, and errors that ended in a 5xx reported to the error monitor (decided on the
  // response: the error handler maps codes to statuses after onError runs).
  await app.register(metricsPlugin, {
    collector: observability.metricsCollector,
    errorMonitor: observability.errorMonitor,
  });
  if (config.corsOrigins !== undefined) await app.register(corsPlugin, { origins: config.corsOrigins });
  await app.register(openApiPlugin, {
    info: {
      title: 'Challenges service',
      version: API_VERSION,
      description: 'The @infra demo: every package of the toolkit behind one API.',
    },
    document: { tags: [{ name: 'challenges' }, { name: 'users' }] },
    routePrefix: '/docs',
  });
  // Shed load before any work starts: a request that would queue behind a full database pool (or a
  // stalled event loop) gets a 503 + Retry-After at once. Probes and metrics are never shed.
  await app.register(loadSheddingPlugin, {
    pool: resources.persistence.driver,
    maxPoolWaiting: config.loadShedding.maxPoolWaiting,
    maxEventLoopDelayMs: config.loadShedding.maxEventLoopDelayMs,
    skip: (request) => request.url.startsWith('/health') || request.url.startsWith('/metrics'),
  });
  await app.register(healthCheckController, {
    service: resources.health,
    info: { serviceId: 'challenges-service', version: API_VERSION },
    ...(config.health.detailToken === undefined ? {} : { detailToken: config.health.detailToken }),
  });
  app.addSchema(challengeSchema);

  // Domain errors of the challenge routes go to the error monitor with their context; the
  // domain's filter drops CHALLENGE_NOT_FOUND.
  app.addHook('onError', async (request, _reply, error) => {
    if (isDemoError(error) && request.url.startsWith('/v1/challenges')) {
      const params = request.params as { id?: string } | undefined;
      observability.errorMonitor.captureError(error, {
        domain: 'challenge',
        context: { challengeId: params?.id, route: request.routeOptions.url },
      });
    }
  });

  await app.register(apiVersionPlugin, {
    version: API_VERSION,
    routes: async (v1: FastifyInstance) => {
      await v1.register(
        challengeRoutes({
          challengeService: resources.challengeService,
          generator: resources.generator,
          generateLimiter: resources.generateLimiter,
          idempotencyStore: resources.idempotencyStore,
          onGenerated: (source) => {
            observability.challengesGenerated.inc({ source });
          },
        }),
      );
      await v1.register(userRoutes(resources.userService));
    },
  });

  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.send({
      service: 'challenges-service',
      version: API_VERSION,
      links: { docs: '/docs', challenges: '/v1/challenges', health: '/health', metrics: '/metrics' },
    }),
  );
}
