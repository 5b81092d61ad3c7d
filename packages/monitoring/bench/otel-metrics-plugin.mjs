// The other way to export the plugin's metrics through public APIs only: OpenTelemetry metrics
// (@opentelemetry/sdk-metrics) read by the Prometheus exporter, with the same labels, buckets and
// hook as @infra/monitoring/fastify, so that the benchmark compares the two metric pipelines alone.
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];

/** A Fastify plugin (skip-override, like fastify-plugin) recording RED metrics with OpenTelemetry. */
export function otelMetricsPlugin(fastify, _options, done) {
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    withoutTargetInfo: true,
  });
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter('@infra/monitoring-bench');
  const duration = meter.createHistogram('http_request_duration_seconds', {
    description: 'HTTP request duration',
    unit: 's',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  // One attributes object per route, method and status class, as the prom-client plugin keeps
  // one bound series: the SDK still hashes the attributes on every record, which is its cost.
  const attributesOf = new Map();
  fastify.addHook('onResponse', (request, reply, hookDone) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      const status = Math.floor(reply.statusCode / 100) - 1;
      const key = `${request.method} ${route} ${status}`;
      let attributes = attributesOf.get(key);
      if (attributes === undefined) {
        attributes = { method: request.method, route, status_class: STATUS_CLASSES[status] ?? 'other' };
        attributesOf.set(key, attributes);
      }
      duration.record(reply.elapsedTime / 1000, attributes);
    }
    hookDone();
  });
  fastify.get('/metrics', (request, reply) => {
    reply.hijack();
    exporter.getMetricsRequestHandler(request.raw, reply.raw);
  });
  fastify.addHook('onClose', (_instance, closeDone) => {
    provider.shutdown().then(() => closeDone(), closeDone);
  });
  done();
}
otelMetricsPlugin[Symbol.for('skip-override')] = true;
