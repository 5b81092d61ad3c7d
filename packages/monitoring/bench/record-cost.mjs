// Cost of recording one request's metrics (one histogram observation, the HTTP plugin's
// per-request work) through @infra/monitoring and through OpenTelemetry metrics.
// MONITORING_BASELINE=<path of another build's dist/> adds that build in the same run, to compare
// a change against what it replaces.
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Bench } from 'tinybench';
import { table } from './harness.mjs';

const LABELS = { method: 'GET', route: '/users/:id', status_class: '2xx' };
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function monitoringTasks(bench, label, { MetricsCollector }) {
  const collector = new MetricsCollector();
  const labelNames = Object.keys(LABELS);
  const duration = collector.histogram({
    name: 'http_request_duration_seconds',
    help: 'Time',
    labelNames,
    buckets: BUCKETS,
  });
  const boundDuration = duration.labels(LABELS);
  bench.add(`${label}: bound series`, () => {
    boundDuration.observe(0.003);
  });
  bench.add(`${label}: labels per call`, () => {
    duration.observe(LABELS, 0.003);
  });
}

function otelTasks(bench) {
  const provider = new MeterProvider({ readers: [new PrometheusExporter({ preventServerStart: true })] });
  const meter = provider.getMeter('record-cost');
  const duration = meter.createHistogram('http_request_duration_seconds', {
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  bench.add('OpenTelemetry metrics: attributes per call', () => {
    duration.record(0.003, LABELS);
  });
  return provider;
}

export async function benchRecordCost() {
  console.log('\nRecord cost: one histogram observation (3 labels), tinybench');
  const bench = new Bench({ time: Number(process.env.BENCH_RECORD_MS ?? 1000), warmupTime: 200 });
  monitoringTasks(bench, '@infra/monitoring', await import('../dist/index.js'));
  const baseline = process.env.MONITORING_BASELINE;
  if (baseline)
    monitoringTasks(
      bench,
      'baseline build',
      await import(new URL('index.js', `file://${baseline.replace(/\/?$/, '/')}`).href),
    );
  const provider = otelTasks(bench);
  await bench.run();
  await provider.shutdown();
  const nsOf = (task) => (task.result.latency?.mean ?? task.result.mean) * 1e6;
  const reference = nsOf(bench.tasks[0]);
  table(
    bench.tasks.map((task) => ({
      variant: task.name,
      'ns/record (mean)': nsOf(task).toFixed(0),
      'vs @infra/monitoring bound': `${(nsOf(task) / reference).toFixed(2)}x`,
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRecordCost();
