/**
 * Counter and histogram storage that a prom-client `Registry` exposes like its own metrics.
 *
 * prom-client hashes the label object on every `inc`/`observe`. Here a series is found once
 * (`series(labels)`) and then updated by plain field arithmetic, so that a hot path such as the
 * HTTP metrics hook keeps its series and pays no hashing per request.
 */

type LabelValues = Record<string, string | number>;

/** One value of a metric as prom-client's Registry reads it from `get()`. */
export interface ExposedValue {
  value: number;
  labels: LabelValues;
  /** Written after `labels` and the registry's default labels, as prom-client does for histograms. */
  sharedLabels?: LabelValues;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric's `get()`. */
export interface ExposedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExposedValue[];
  aggregator: 'sum';
}

/**
 * Separates label values in a series key; a value cannot contain it in practice, and a clash only merges two series.
 */
const SEP = '\u0000';
/** Stands for a label left out, which is not the same series as an empty string. */
const ABSENT = '\u0001';

function keyOf(labelNames: readonly string[], labels: Partial<LabelValues>): string {
  let key = '';
  for (const name of labelNames) {
    const value = labels[name];
    key += (value === undefined ? ABSENT : String(value)) + SEP;
  }
  return key;
}

/** Copy of the given labels, declared names only, in declaration order. */
function copyOf(labelNames: readonly string[], labels: Partial<LabelValues>): LabelValues {
  const copy: LabelValues = {};
  for (const name of labelNames) {
    const value = labels[name];
    if (value !== undefined) copy[name] = value;
  }
  return copy;
}

/** One series of a counter: its labels and running total. */
export class CounterSeries {
  value = 0;
  constructor(readonly labels: LabelValues) {}
}

/** One series of a histogram: per-bucket (non-cumulative) counts, sum and count. */
export class HistogramSeries {
  sum = 0;
  count = 0;
  readonly buckets: Float64Array;

  constructor(
    readonly labels: LabelValues,
    private readonly upperBounds: readonly number[],
  ) {
    this.buckets = new Float64Array(upperBounds.length);
  }

  observe(value: number): void {
    // Values above the last bound land only in +Inf, which is `count`.
    let i = 0;
    for (const bound of this.upperBounds) {
      if (value <= bound) {
        this.buckets[i] = (this.buckets[i] ?? 0) + 1;
        break;
      }
      i++;
    }
    this.sum += value;
    this.count += 1;
  }
}

abstract class SeriesMetric<S extends CounterSeries | HistogramSeries> {
  readonly aggregator = 'sum' as const;
  protected readonly byKey: Map<string, S> = new Map();

  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
  ) {}

  /** The series of these labels, created on first use; the same object every time after. */
  series(labels: Partial<LabelValues>): S {
    const key = keyOf(this.labelNames, labels);
    let found = this.byKey.get(key);
    if (found === undefined) {
      found = this.create(copyOf(this.labelNames, labels));
      this.byKey.set(key, found);
    }
    return found;
  }

  /**
   * Zeroes every series in place. Series are kept, not dropped, so that a caller holding one
   * (see {@link series}) keeps recording into what is exposed.
   */
  abstract reset(): void;

  abstract get(): Promise<ExposedMetric>;

  protected abstract create(labels: LabelValues): S;
}

/** A counter whose series are exposed through a prom-client Registry. */
export class SeriesCounter extends SeriesMetric<CounterSeries> {
  readonly type = 'counter' as const;

  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames);
    // Like prom-client: a counter without labels shows 0 before its first increment.
    if (labelNames.length === 0) this.series({});
  }

  reset(): void {
    for (const series of this.byKey.values()) series.value = 0;
  }

  get(): Promise<ExposedMetric> {
    const values: ExposedValue[] = [];
    for (const series of this.byKey.values()) values.push({ value: series.value, labels: series.labels });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  protected create(labels: LabelValues): CounterSeries {
    return new CounterSeries(labels);
  }
}

/** A histogram whose series are exposed through a prom-client Registry. */
export class SeriesHistogram extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly upperBounds: readonly number[],
  ) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.series({});
  }

  reset(): void {
    for (const series of this.byKey.values()) {
      series.sum = 0;
      series.count = 0;
      series.buckets.fill(0);
    }
  }

  get(): Promise<ExposedMetric> {
    const values: ExposedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const series of this.byKey.values()) {
      let cumulative = 0;
      let i = 0;
      for (const le of this.upperBounds) {
        cumulative += series.buckets[i++] ?? 0;
        values.push({ value: cumulative, labels: { le }, sharedLabels: series.labels, metricName: bucketName });
      }
      // The same label layout as prom-client's own histograms, so the text is byte for byte theirs.
      values.push({ value: series.count, labels: { le: '+Inf' }, sharedLabels: series.labels, metricName: bucketName });
      values.push({ value: series.sum, labels: {}, sharedLabels: series.labels, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels: {}, sharedLabels: series.labels, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  protected create(labels: LabelValues): HistogramSeries {
    return new HistogramSeries(labels, this.upperBounds);
  }
}
