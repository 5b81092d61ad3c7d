export { errorMonitor, healthCheckScheduler, metricsCollector, openaiMonitor, performanceMonitor } from './defaults.js';
export { MetricsCollector } from './metrics-collector.js';
export type { HistogramDefinition, MetricDefinition, MetricsCollectorOptions } from './metrics-collector.js';
export { CounterMetric, GaugeMetric, HistogramMetric } from './metric-handles.js';
export type { Labels } from './metric-handles.js';
export { ErrorMonitor } from './error-monitor.js';
export type { CaptureOptions, CaptureResult, DomainOptions, ErrorMonitorOptions } from './error-monitor.js';
export { logTransport } from './error-event.js';
export type { ErrorEvent, ErrorLevel, ErrorTransport, LogTransportOptions } from './error-event.js';
export { createScrubber } from './scrub.js';
export type { ScrubOptions, Scrubber } from './scrub.js';
export { fingerprintOf, hashFingerprint } from './fingerprint.js';
export { HealthCheckScheduler } from './health-check-scheduler.js';
export type { HealthCheckSchedulerOptions, StartHealthChecksOptions } from './health-check-scheduler.js';
export { PerformanceMonitor } from './performance-monitor.js';
export type { PerformanceMonitorOptions, PerformanceSnapshot } from './performance-monitor.js';
export { OpenAIMonitor } from './openai-monitor.js';
export type {
  OpenAIAuxiliaryEvents,
  OpenAIBreakerEvent,
  OpenAIErrorEvent,
  OpenAIEventSource,
  OpenAIMonitorOptions,
  OpenAIRequestEvent,
  OpenAIUsageEvent,
} from './openai-monitor.js';
export { ComponentMonitor } from './component-monitor.js';
export type { ComponentMonitorOptions, EventSource } from './component-monitor.js';
// eslint-disable-next-line @typescript-eslint/no-deprecated -- kept one minor version for users moving to Logger
export type { MonitorLogger } from './logger.js';
export {
  HealthCheckFailedError,
  InvalidOptionError,
  MissingPeerError,
  MonitoringError,
  MonitoringErrorCodes,
  isMonitoringError,
} from './errors.js';
export type { MonitoringErrorCode, MonitoringErrorsByCode } from './errors.js';
