import { describeValue } from '@infra/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MonitoringError } from './errors.js';
import { CounterMetric, GaugeMetric, HistogramMetric } from './metric-handles.js';
import { optionalObject } from './validate.js';

/** Options of a {@link MetricsCollector}. */
export interface MetricsCollectorOptions {
  /** Registry to register into. @default a new Registry of its own, so two collectors never collide */
  registry?: Registry;
  /** Prepended to every metric name, e.g. `myapp_`. @default '' */
  prefix?: string;
  /** Labels added to every series, e.g. `{ service: 'api' }`. @default {} */
  defaultLabels?: Record<string, string>;
  /** Collect Node.js process metrics (CPU, memory, event loop lag, GC) on this registry. @default false */
  defaultMetrics?: boolean;
}

/** Definition of a metric. */
export interface MetricDefinition<L extends string = string> {
  /** Prometheus name: `[a-zA-Z_:][a-zA-Z0-9_:]*`. Counters conventionally end in `_total`. */
  name: string;
  help: string;
  /** Every label the metric may carry; others are rejected. @default [] */
  labelNames?: readonly L[];
  /**
   * Called each time the metrics are read (`metrics()`, a scrape), before their values are written
   * (prom-client's `collect`): set a point-in-time value, or add what a source counted since the
   * last read, so that a hot path keeps its own count instead of updating the metric every time.
   * May return a promise. When a name is defined twice, the first definition's `collect` stays.
   */
  collect?: () => void | Promise<void>;
}

/** Definition of a histogram. */
export interface HistogramDefinition<L extends string = string> extends MetricDefinition<L> {
  /** Upper bounds of the buckets. @default prom-client's (0.005 … 10, suited to seconds) */
  buckets?: number[];
}

/** prom-client's default buckets, suited to durations in seconds. */
const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'counter' | 'gauge' | 'histogram';
interface Entry {
  kind: Kind;
  labels: string;
  handle: CounterMetric | GaugeMetric | HistogramMetric;
}

/** Counters, gauges and histograms with declared labels, exposed in Prometheus text format. */
export class MetricsCollector {
  /** The prom-client registry holding this collector's metrics. */
  readonly registry: Registry;
  private readonly prefix: string;
  private readonly entries = new Map<string, Entry>();
  private defaultMetricsOn = false;

  constructor(options: MetricsCollectorOptions = {}) {
    const o = optionalObject('options', options) as MetricsCollectorOptions;
    // Structural: a registry from another installed copy of prom-client is fine too.
    if (o.registry !== undefined && typeof (o.registry as Partial<Registry> | null)?.registerMetric !== 'function') {
      throw new MonitoringError('INVALID_OPTION', 'Invalid option "registry": expected a prom-client Registry');
    }
    this.registry = o.registry ?? new Registry();
    this.prefix = o.prefix ?? '';
    if (this.prefix !== '' && !METRIC_NAME.test(this.prefix)) {
      throw new MonitoringError(
        'INVALID_METRIC',
        `Invalid metric prefix "${this.prefix}": Prometheus names match ${String(METRIC_NAME)}`,
      );
    }
    const defaultLabels = optionalObject('defaultLabels', o.defaultLabels);
    for (const key of Object.keys(defaultLabels)) checkLabelName('defaultLabels', key);
    if (Object.keys(defaultLabels).length > 0) this.registry.setDefaultLabels(defaultLabels);
    if (o.defaultMetrics === true) this.enableDefaultMetrics();
  }

  /** MIME type of {@link metrics}' output, for the `Content-Type` header. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Creates a counter, or returns the existing one when a counter of the same name and labels
   * exists. @throws `INVALID_METRIC`, `INVALID_LABEL`, or `DUPLICATE_METRIC` for a clash.
   */
  counter<L extends string = never>(definition: MetricDefinition<L>): CounterMetric<L> {
    return this.define('counter', definition, (name, help, labelNames, declared, collect) => {
      const metric = new Counter<L>({
        name,
        help,
        labelNames: labelNames as L[],
        registers: [this.registry],
        ...collect,
      });
      return new CounterMetric<L>(name, metric, declared);
    }) as CounterMetric<L>;
  }

  /** Creates a gauge, or returns the existing identical one (see {@link counter}). */
  gauge<L extends string = never>(definition: MetricDefinition<L>): GaugeMetric<L> {
    return this.define('gauge', definition, (name, help, labelNames, declared, collect) => {
      const metric = new Gauge<L>({
        name,
        help,
        labelNames: labelNames as L[],
        registers: [this.registry],
        ...collect,
      });
      return new GaugeMetric<L>(name, metric, declared);
    }) as GaugeMetric<L>;
  }

  /** Creates a histogram, or returns the existing identical one (see {@link counter}). */
  histogram<L extends string = never>(definition: HistogramDefinition<L>): HistogramMetric<L> {
    const buckets = definition.buckets;
    if (
      buckets !== undefined &&
      (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b) => !Number.isFinite(b)))
    ) {
      throw new MonitoringError(
        'INVALID_OPTION',
        `Invalid buckets of histogram "${definition.name}": expected finite numbers`,
      );
    }
    return this.define('histogram', definition, (name, help, labelNames, declared, collect) => {
      const bounds = buckets === undefined ? DEFAULT_BUCKETS : [...new Set(buckets)].sort((a, b) => a - b);
      const metric = new Histogram<L>({
        name,
        help,
        labelNames: labelNames as L[],
        buckets: [...bounds],
        registers: [this.registry],
        ...collect,
      });
      return new HistogramMetric<L>(name, metric, declared);
    }) as HistogramMetric<L>;
  }

  /** Whether a metric of this name (without prefix) was created here. */
  has(name: string): boolean {
    return this.entries.has(this.prefix + name);
  }

  /**
   * Whether {@link enableDefaultMetrics} ran: the registry then exports prom-client's process
   * metrics (`nodejs_gc_duration_seconds`, heap, event-loop lag…), which others must not export again.
   */
  get collectsDefaultMetrics(): boolean {
    return this.defaultMetricsOn;
  }

  /** Collects Node.js process metrics on this registry (idempotent). */
  enableDefaultMetrics(options: { prefix?: string } = {}): void {
    if (this.defaultMetricsOn) return;
    this.defaultMetricsOn = true;
    collectDefaultMetrics({ register: this.registry, prefix: options.prefix ?? this.prefix });
  }

  /** Every metric in the Prometheus text exposition format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Drops every labelled series and zeroes the others, keeping the metrics (prom-client's `resetMetrics`). */
  resetValues(): void {
    this.registry.resetMetrics();
  }

  private define(
    kind: Kind,
    definition: MetricDefinition,
    create: (
      name: string,
      help: string,
      labelNames: string[],
      declared: ReadonlySet<string>,
      collect: { collect?: () => void | Promise<void> },
    ) => Entry['handle'],
  ): Entry['handle'] {
    const d = optionalObject('definition', definition) as Partial<MetricDefinition>;
    if (typeof d.name !== 'string' || !METRIC_NAME.test(this.prefix + d.name) || d.name.startsWith('__')) {
      throw new MonitoringError(
        'INVALID_METRIC',
        `Invalid metric name ${JSON.stringify(d.name)}: Prometheus names match ${String(METRIC_NAME)}`,
      );
    }
    if (typeof d.help !== 'string' || d.help.trim() === '') {
      throw new MonitoringError('INVALID_METRIC', `Metric "${d.name}" needs a non-empty help text`);
    }
    const labelNames = [...(d.labelNames ?? [])];
    for (const label of labelNames) checkLabelName(d.name, label, kind);
    if (new Set(labelNames).size !== labelNames.length) {
      throw new MonitoringError('INVALID_LABEL', `Metric "${d.name}" declares a label twice: ${labelNames.join(', ')}`);
    }
    const name = this.prefix + d.name;
    const labels = [...labelNames].sort().join(',');
    const existing = this.entries.get(name);
    if (existing) {
      if (existing.kind === kind && existing.labels === labels) return existing.handle;
      throw new MonitoringError(
        'DUPLICATE_METRIC',
        `Metric "${name}" already exists as a ${existing.kind} with labels [${existing.labels}]; cannot redefine it as a ${kind} with labels [${labels}]`,
      );
    }
    if (this.registry.getSingleMetric(name)) {
      throw new MonitoringError(
        'DUPLICATE_METRIC',
        `Metric "${name}" is already registered in this registry by someone else`,
      );
    }
    const collect = d.collect;
    if (collect !== undefined && typeof collect !== 'function') {
      throw new MonitoringError(
        'INVALID_OPTION',
        `collect of metric "${d.name}" must be a function, got ${describeValue(collect)}`,
      );
    }
    const handle = create(
      name,
      d.help,
      labelNames,
      new Set(labelNames),
      collect === undefined ? {} : { collect: () => collect() },
    );
    this.entries.set(name, { kind, labels, handle });
    return handle;
  }
}

function checkLabelName(metric: string, label: unknown, kind?: Kind): void {
  if (typeof label !== 'string' || !LABEL_NAME.test(label) || label.startsWith('__')) {
    throw new MonitoringError(
      'INVALID_LABEL',
      `Invalid label name ${JSON.stringify(label)} on "${metric}": label names match ${String(LABEL_NAME)} and do not start with "__"`,
    );
  }
  if (kind === 'histogram' && label === 'le') {
    throw new MonitoringError('INVALID_LABEL', `Label "le" is reserved for histogram buckets ("${metric}")`);
  }
}
