import { defaultLogger } from './default-logger.js';
import { ErrorMonitor } from './error-monitor.js';
import { HealthCheckScheduler } from './health-check-scheduler.js';
import { MetricsCollector } from './metrics-collector.js';
import { OpenAIMonitor } from './openai-monitor.js';
import { PerformanceMonitor } from './performance-monitor.js';

// Module-level default instances, wired together. Constructing them starts nothing: no timer,
// no observer, no metric is registered until it is used. They log through pino on stderr when
// pino is installed (see defaultLogger), since the documented usage passes them no logger.

const logger = defaultLogger('@infra/monitoring');

/** The default metrics collector (its own prom-client Registry). */
export const metricsCollector: MetricsCollector = new MetricsCollector();

/** The default error monitor (log transport). */
export const errorMonitor: ErrorMonitor = new ErrorMonitor({ logger });

/** The default health-check scheduler, reporting to {@link errorMonitor}. */
export const healthCheckScheduler: HealthCheckScheduler = new HealthCheckScheduler({ errorMonitor, logger });

/** The default performance monitor, feeding {@link metricsCollector}. Call `start()` to sample. */
export const performanceMonitor: PerformanceMonitor = new PerformanceMonitor({ metrics: metricsCollector, logger });

/** The default OpenAI monitor, feeding {@link metricsCollector}. Call `attach(client)`. */
export const openaiMonitor: OpenAIMonitor = new OpenAIMonitor({ metrics: metricsCollector });
