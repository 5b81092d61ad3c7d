import { InvalidConfigError } from './errors.js';

type Env = Record<string, string | undefined>;

/** Where traces go, from the standard OpenTelemetry variables. */
export interface TracingConfig {
  /** `OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none` (the SDK is not loaded at all). @default 'none' */
  exporter: 'otlp' | 'console' | 'none';
  /** `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` or `http/json`. @default 'http/protobuf' */
  protocol: 'http/protobuf' | 'http/json';
  /** `OTEL_SERVICE_NAME`. @default 'challenges-service' */
  serviceName: string;
}

/** A started SDK: `close()` flushes the batch of spans not exported yet, then stops it. */
export interface Telemetry {
  close(): Promise<void>;
}

const exporters = ['otlp', 'console', 'none'] as const;
const protocols = ['http/protobuf', 'http/json'] as const;

/**
 * Reads the OpenTelemetry variables the demo supports, failing with `INVALID_CONFIG` naming the
 * variable. `OTEL_EXPORTER_OTLP_ENDPOINT` (and the other `OTEL_*` variables) are read by the SDK itself.
 */
export function loadTracingConfig(env: Env = process.env): TracingConfig {
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim() || 'none';
  if (!(exporters as readonly string[]).includes(exporter)) {
    throw new InvalidConfigError(
      'OTEL_TRACES_EXPORTER',
      `OTEL_TRACES_EXPORTER must be one of ${exporters.join(', ')} (got "${exporter}")`,
    );
  }
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim();
  if (protocol !== '' && !(protocols as readonly string[]).includes(protocol)) {
    const variable =
      env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL === undefined
        ? 'OTEL_EXPORTER_OTLP_PROTOCOL'
        : 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
    throw new InvalidConfigError(variable, `${variable} must be one of ${protocols.join(', ')} (got "${protocol}")`);
  }
  return {
    exporter: exporter as TracingConfig['exporter'],
    protocol: (protocol || 'http/protobuf') as TracingConfig['protocol'],
    serviceName: (env.OTEL_SERVICE_NAME ?? '').trim() || 'challenges-service',
  };
}

/**
 * Starts the OpenTelemetry SDK when `OTEL_TRACES_EXPORTER` asks for it, before the service's
 * modules load (the instrumentations patch `http` and `ioredis` as they are first loaded).
 * With `none` (the default) nothing is imported: the packages' spans stay no-op checks.
 */
export async function startTelemetry(env: Env = process.env): Promise<Telemetry | undefined> {
  const config = loadTracingConfig(env);
  if (config.exporter === 'none') return undefined;
  // The ESM loader hook lets the instrumentations patch modules brought in by `import`, as ours are.
  const { register } = await import('node:module');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [{ NodeSDK }, { ConsoleSpanExporter, SimpleSpanProcessor }, http, ioredis, fastify] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@fastify/otel'),
  ]);
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    // Traces only: metrics stay on the Prometheus endpoint, logs on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    // otlp: the SDK builds the exporter from OTEL_EXPORTER_OTLP_* behind a batch span processor.
    ...(config.exporter === 'console' ? { spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] } : {}),
    instrumentations: [
      new http.HttpInstrumentation({
        // Probes and scrapes would be most of the traces and say nothing.
        ignoreIncomingRequestHook: (request) => /^\/(health|metrics)/.test(request.url ?? ''),
      }),
      new fastify.FastifyOtelInstrumentation({ registerOnInitialization: true }),
      // No pg instrumentation: @infra/persistence records its transactions and queries itself (on
      // PGlite too), and a second span per query would say the same thing twice.
      new ioredis.IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return { close: () => sdk.shutdown() };
}
