import type { Counter, Gauge, Histogram } from 'prom-client';
import { describeValue as describe } from '@infra/core';
import { MonitoringError } from './errors.js';

/** Label values by label name; only declared names are accepted. */
export type Labels<L extends string = string> = Partial<Record<L, string | number>>;

/** Checks label names against the declared set: prom-client would only say "not in labelset". */
export function labelsOf<L extends string>(
  metric: string,
  declared: ReadonlySet<string>,
  labels: Labels<L>,
): Labels<L> {
  for (const key in labels) {
    if (!declared.has(key)) {
      throw new MonitoringError(
        'INVALID_LABEL',
        `Label "${key}" is not declared on metric "${metric}"; declared: ${declared.size === 0 ? 'none' : [...declared].join(', ')}`,
      );
    }
    const value = labels[key];
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new MonitoringError(
        'INVALID_LABEL',
        `Label "${key}" of metric "${metric}" must be a string or a number, got ${describe(value)}`,
      );
    }
  }
  return labels;
}

function amount(metric: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new MonitoringError('INVALID_OPTION', `Value of metric "${metric}" must be a number, got ${describe(value)}`);
  }
  return value;
}

function increment(metric: string, value: unknown): number {
  if (amount(metric, value) < 0) {
    throw new MonitoringError('INVALID_OPTION', `Counter "${metric}" can only increase; got ${String(value)}`);
  }
  return value as number;
}

/** One series of a counter, its labels fixed: {@link CounterMetric.labels}. */
export class BoundCounter {
  private readonly child: { inc(value?: number): void };

  constructor(
    private readonly name: string,
    metric: Counter,
    labelValues: Labels,
  ) {
    this.child = metric.labels(labelValues);
  }

  /** Adds `value` (default 1, must be >= 0). */
  inc(value = 1): void {
    this.child.inc(increment(this.name, value));
  }
}

/** A monotonically increasing count. */
export class CounterMetric<L extends string = string> {
  constructor(
    readonly name: string,
    private readonly metric: Counter<L>,
    private readonly declared: ReadonlySet<string>,
  ) {}

  /** Adds `value` (default 1, must be >= 0) to the series of `labels`. */
  inc(labels: Labels<L> = {}, value = 1): void {
    this.metric.inc(labelsOf(this.name, this.declared, labels), increment(this.name, value));
  }

  /**
   * The series of `labels`, checked once, for a hot path that records into the same series
   * over and over: `const ok = requests.labels({ route: '/users/:id' }); ok.inc();`.
   */
  labels(labels: Labels<L> = {}): BoundCounter {
    return new BoundCounter(this.name, this.metric, { ...labelsOf(this.name, this.declared, labels) });
  }

  /** Drops every labelled series and zeroes an unlabelled one, as prom-client's `reset()` (e.g. in tests). */
  reset(): void {
    this.metric.reset();
  }
}

/** A value that goes up and down. */
export class GaugeMetric<L extends string = string> {
  constructor(
    readonly name: string,
    private readonly metric: Gauge<L>,
    private readonly declared: ReadonlySet<string>,
  ) {}

  set(labels: Labels<L>, value: number): void {
    this.metric.set(labelsOf(this.name, this.declared, labels), amount(this.name, value));
  }

  inc(labels: Labels<L> = {}, value = 1): void {
    this.metric.inc(labelsOf(this.name, this.declared, labels), amount(this.name, value));
  }

  dec(labels: Labels<L> = {}, value = 1): void {
    this.metric.dec(labelsOf(this.name, this.declared, labels), amount(this.name, value));
  }

  reset(): void {
    this.metric.reset();
  }
}

/** One series of a histogram, its labels fixed: {@link HistogramMetric.labels}. */
export class BoundHistogram {
  private readonly child: { observe(value: number): void };

  constructor(
    private readonly name: string,
    metric: Histogram,
    labelValues: Labels,
  ) {
    this.child = metric.labels(labelValues);
  }

  /** Records `value` in the series' buckets (anything but a number, or NaN, is `INVALID_OPTION`). */
  observe(value: number): void {
    this.child.observe(amount(this.name, value));
  }
}

/** A distribution of observed values in buckets. */
export class HistogramMetric<L extends string = string> {
  constructor(
    readonly name: string,
    private readonly metric: Histogram<L>,
    private readonly declared: ReadonlySet<string>,
  ) {}

  observe(labels: Labels<L>, value: number): void {
    this.metric.observe(labelsOf(this.name, this.declared, labels), amount(this.name, value));
  }

  /** The series of `labels`, checked once, for a hot path (see {@link CounterMetric.labels}). */
  labels(labels: Labels<L> = {}): BoundHistogram {
    return new BoundHistogram(this.name, this.metric, { ...labelsOf(this.name, this.declared, labels) });
  }

  /** Starts a timer; the returned function observes the elapsed seconds and returns them. */
  startTimer(labels: Labels<L> = {}): (extraLabels?: Labels<L>) => number {
    const started = process.hrtime.bigint();
    labelsOf(this.name, this.declared, labels);
    return (extraLabels = {}) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.observe({ ...labels, ...extraLabels }, seconds);
      return seconds;
    };
  }

  /** Drops every labelled series and zeroes an unlabelled one, as prom-client's `reset()` (e.g. in tests). */
  reset(): void {
    this.metric.reset();
  }
}
