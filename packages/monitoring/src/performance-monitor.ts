import { silentLogger, type Logger } from '@infra/core';
import {
  PerformanceObserver,
  monitorEventLoopDelay,
  constants,
  type IntervalHistogram,
  type PerformanceEntry,
} from 'node:perf_hooks';
import type { CounterMetric, GaugeMetric, HistogramMetric } from './metric-handles.js';
import type { MetricsCollector } from './metrics-collector.js';
import { InvalidOptionError } from './errors.js';
import {
  integer,
  nonEmptyString,
  nonNegative,
  optionalFn,
  optionalLogger,
  optionalObject,
  positive,
} from './validate.js';

/** Options of a {@link PerformanceMonitor}. */
export interface PerformanceMonitorOptions {
  /**
   * Where measurements go as metrics. Event-loop delay, heap and GC go there only when the
   * collector does not export prom-client's default metrics, which measure the same: no quantity is
   * exported under two names. @default undefined (snapshots and warnings only)
   */
  metrics?: MetricsCollector;
  /** Time between samples of event-loop delay and heap, in milliseconds. @default 10000 */
  sampleIntervalMs?: number;
  /** Operations measured with `measure()` slower than this are logged as slow. @default 1000 */
  slowThresholdMs?: number;
  /** Sampling resolution of the event-loop delay histogram, in milliseconds. @default 20 */
  eventLoopResolutionMs?: number;
  /** Receives slow-operation warnings, e.g. a pino logger. @default silent */
  logger?: Logger;
  /** Clock in milliseconds used by `measure()`, for tests. @default performance.now */
  now?: () => number;
}

/** A point-in-time view of the process. Times in milliseconds, sizes in bytes. */
export interface PerformanceSnapshot {
  eventLoopDelay: { min: number; max: number; mean: number; p50: number; p90: number; p99: number };
  heap: { usedBytes: number; totalBytes: number; rssBytes: number; externalBytes: number };
  gc: { count: number; totalDurationMs: number };
  slowOperations: number;
}

/** Event loop, heap and GC: the same quantities as prom-client's default metrics. */
interface ProcessInstruments {
  loopDelay: GaugeMetric<'stat'>;
  heapUsed: GaugeMetric;
  heapTotal: GaugeMetric;
  rss: GaugeMetric;
  gc: HistogramMetric<'kind'>;
}

interface Instruments {
  /** Absent when the collector exports prom-client's default metrics, which measure the same. */
  process: ProcessInstruments | undefined;
  operation: HistogramMetric<'operation' | 'outcome'>;
  slow: CounterMetric<'operation'>;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * Event-loop delay (`monitorEventLoopDelay`), heap, GC pauses (`PerformanceObserver`) and timed
 * operations, fed into metrics. `start()`/`stop()` are idempotent; the sampling timer is unref'd
 * and the observer is disconnected on stop.
 */
export class PerformanceMonitor {
  private readonly metrics: MetricsCollector | undefined;
  private readonly sampleIntervalMs: number;
  private readonly slowThresholdMs: number;
  private readonly resolutionMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private instruments: Instruments | undefined;
  private histogram: IntervalHistogram | undefined;
  private observer: PerformanceObserver | undefined;
  private timer: NodeJS.Timeout | undefined;
  private gcCount = 0;
  private gcTotalMs = 0;
  private slowCount = 0;

  constructor(options: PerformanceMonitorOptions = {}) {
    const o = optionalObject('options', options) as PerformanceMonitorOptions;
    this.metrics = o.metrics;
    this.sampleIntervalMs =
      o.sampleIntervalMs === undefined ? 10_000 : positive('sampleIntervalMs', o.sampleIntervalMs);
    this.slowThresholdMs = o.slowThresholdMs === undefined ? 1000 : nonNegative('slowThresholdMs', o.slowThresholdMs);
    this.resolutionMs =
      o.eventLoopResolutionMs === undefined ? 20 : integer('eventLoopResolutionMs', o.eventLoopResolutionMs, 1);
    this.logger = optionalLogger('logger', o.logger) ?? silentLogger;
    this.now = optionalFn<() => number>('now', o.now) ?? (() => performance.now());
  }

  get isRunning(): boolean {
    return this.timer !== undefined;
  }

  /** Starts sampling the event loop, heap and GC. */
  start(): this {
    if (this.timer !== undefined) return this;
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
    this.histogram.enable();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.recordGc(entry);
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => {
      this.sample();
    }, this.sampleIntervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling: clears the timer, disables the histogram, disconnects the GC observer. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** Same as {@link stop}, for a uniform shutdown. */
  // eslint-disable-next-line @typescript-eslint/require-await -- a bad option rejects, as from any close()
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    const given = optionalObject('options', options);
    if (given.timeoutMs !== undefined) nonNegative('timeoutMs', given.timeoutMs);
    this.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Reads the current values; pushes them to metrics too. Event-loop figures cover the time since the last sample. */
  sample(): PerformanceSnapshot {
    const snapshot = this.snapshot();
    const m = this.instrumented()?.process;
    if (m) {
      for (const stat of ['min', 'max', 'mean', 'p50', 'p90', 'p99'] as const) {
        m.loopDelay.set({ stat }, snapshot.eventLoopDelay[stat] / 1000);
      }
      m.heapUsed.set({}, snapshot.heap.usedBytes);
      m.heapTotal.set({}, snapshot.heap.totalBytes);
      m.rss.set({}, snapshot.heap.rssBytes);
    }
    this.histogram?.reset();
    return snapshot;
  }

  /** The current values, without resetting anything. */
  snapshot(): PerformanceSnapshot {
    const h = this.histogram;
    const ms = (ns: number): number => (Number.isFinite(ns) ? ns / 1e6 : 0);
    const memory = process.memoryUsage();
    return {
      eventLoopDelay:
        h && h.count > 0
          ? {
              min: ms(h.min),
              max: ms(h.max),
              mean: ms(h.mean),
              p50: ms(h.percentile(50)),
              p90: ms(h.percentile(90)),
              p99: ms(h.percentile(99)),
            }
          : { min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 },
      heap: {
        usedBytes: memory.heapUsed,
        totalBytes: memory.heapTotal,
        rssBytes: memory.rss,
        externalBytes: memory.external,
      },
      gc: { count: this.gcCount, totalDurationMs: this.gcTotalMs },
      slowOperations: this.slowCount,
    };
  }

  /**
   * Runs `fn`, records its duration under `name` (outcome ok/error), warns when it is slower than
   * the threshold, and returns (or rethrows) what `fn` did.
   */
  async measure<T>(name: string, fn: () => T | Promise<T>, options: { slowThresholdMs?: number } = {}): Promise<T> {
    nonEmptyString('name', name);
    if (typeof fn !== 'function') throw new InvalidOptionError('fn', fn, 'a function');
    const threshold =
      options.slowThresholdMs === undefined
        ? this.slowThresholdMs
        : nonNegative('slowThresholdMs', options.slowThresholdMs);
    const end = this.startTimer(name, threshold);
    try {
      const value = await fn();
      end('ok');
      return value;
    } catch (error) {
      end('error');
      throw error;
    }
  }

  /** Starts timing `name`; the returned function records the duration and returns it in milliseconds. */
  startTimer(name: string, slowThresholdMs: number = this.slowThresholdMs): (outcome?: 'ok' | 'error') => number {
    nonEmptyString('name', name);
    const started = this.now();
    return (outcome = 'ok') => {
      const durationMs = this.now() - started;
      const m = this.instrumented();
      m?.operation.observe({ operation: name, outcome }, durationMs / 1000);
      if (durationMs > slowThresholdMs) {
        this.slowCount++;
        m?.slow.inc({ operation: name });
        this.logger.warn(
          { operation: name, durationMs: Math.round(durationMs), thresholdMs: slowThresholdMs, outcome },
          `slow operation "${name}"`,
        );
      }
      return durationMs;
    };
  }

  private recordGc(entry: PerformanceEntry): void {
    this.gcCount++;
    this.gcTotalMs += entry.duration;
    const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
    const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
    this.instrumented()?.process?.gc.observe({ kind }, entry.duration / 1000);
  }

  private instrumented(): Instruments | undefined {
    const metrics = this.metrics;
    if (!metrics) return undefined;
    this.instruments ??= {
      process: metrics.collectsDefaultMetrics ? undefined : processInstruments(metrics),
      operation: metrics.histogram({
        name: 'perf_operation_duration_seconds',
        help: 'Duration of measured operations',
        labelNames: ['operation', 'outcome'],
      }),
      slow: metrics.counter({
        name: 'perf_slow_operations_total',
        help: 'Measured operations slower than their threshold',
        labelNames: ['operation'],
      }),
    };
    return this.instruments;
  }
}

function processInstruments(metrics: MetricsCollector): ProcessInstruments {
  return {
    loopDelay: metrics.gauge({
      name: 'perf_event_loop_delay_seconds',
      help: 'Event-loop delay over the last sample interval',
      labelNames: ['stat'],
    }),
    heapUsed: metrics.gauge({ name: 'perf_heap_used_bytes', help: 'V8 heap in use' }),
    heapTotal: metrics.gauge({ name: 'perf_heap_total_bytes', help: 'V8 heap allocated' }),
    rss: metrics.gauge({ name: 'perf_rss_bytes', help: 'Resident set size of the process' }),
    gc: metrics.histogram({
      name: 'perf_gc_duration_seconds',
      help: 'Garbage collection pauses by kind',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    }),
  };
}
