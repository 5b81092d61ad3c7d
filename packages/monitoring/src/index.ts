export * from './defaults.js';
export * from './metrics-collector.js';
export { CounterMetric, GaugeMetric, HistogramMetric } from './metric-handles.js';
export type { BoundCounter, BoundHistogram, Labels } from './metric-handles.js';
export * from './error-monitor.js';
export * from './error-event.js';
export * from './scrub.js';
export { fingerprintOf, hashFingerprint } from './fingerprint.js';
export * from './health-check-scheduler.js';
export * from './performance-monitor.js';
export * from './openai-monitor.js';
export * from './component-monitor.js';
// eslint-disable-next-line @typescript-eslint/no-deprecated -- kept one minor version for users moving to Logger
export * from './logger.js';
export * from './errors.js';
