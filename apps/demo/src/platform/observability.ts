import type { Logger } from '@infra/core';
import {
  ComponentMonitor,
  ErrorMonitor,
  MetricsCollector,
  OpenAIMonitor,
  PerformanceMonitor,
  logTransport,
  type CounterMetric,
} from '@infra/monitoring';

/** The monitors of one service instance (own registry: two instances in a process never collide). */
export interface Observability {
  metricsCollector: MetricsCollector;
  errorMonitor: ErrorMonitor;
  performanceMonitor: PerformanceMonitor;
  openaiMonitor: OpenAIMonitor;
  componentMonitor: ComponentMonitor;
  challengesCompleted: CounterMetric;
  challengesGenerated: CounterMetric;
  messagesHandled: CounterMetric;
}

export function createObservability(logger: Logger): Observability {
  const metricsCollector = new MetricsCollector({ defaultMetrics: true, defaultLabels: { service: 'challenges' } });
  const errorMonitor = new ErrorMonitor({ logger, transports: [logTransport({ logger })] });
  errorMonitor.registerDomain('challenge', {
    shouldCapture: (error) => {
      // A missing challenge is the client's mistake, not an incident.
      return (error as { code?: unknown } | null)?.code !== 'CHALLENGE_NOT_FOUND';
    },
  });
  errorMonitor.registerDomain('messaging');
  return {
    metricsCollector,
    errorMonitor,
    performanceMonitor: new PerformanceMonitor({ metrics: metricsCollector, logger }),
    openaiMonitor: new OpenAIMonitor({ metrics: metricsCollector }),
    componentMonitor: new ComponentMonitor({ metrics: metricsCollector }),
    challengesCompleted: metricsCollector.counter({ name: 'challenges_completed_total', help: 'Completed challenges' }),
    challengesGenerated: metricsCollector.counter({
      name: 'challenges_generated_total',
      help: 'Generated challenges by source (openai or template)',
      labelNames: ['source'],
    }),
    messagesHandled: metricsCollector.counter({
      name: 'messages_total',
      help: 'Bus messages by topic and outcome (handled, retried, dead_lettered)',
      labelNames: ['topic', 'outcome'],
    }),
  };
}
