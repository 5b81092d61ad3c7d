import { InvalidOptionError } from './errors.js';
import type { CounterMetric, GaugeMetric, HistogramMetric } from './metric-handles.js';
import type { MetricsCollector } from './metrics-collector.js';
import { nonEmptyString, optionalObject } from './validate.js';

/** `request`: an HTTP request to the OpenAI API is about to be sent (once per attempt). */
export interface OpenAIRequestEvent {
  model?: string;
  /** API endpoint or operation, e.g. `chat.completions`; `operation` is accepted too. @default 'unknown' */
  endpoint?: string;
  operation?: string;
  attempt?: number;
}

/** `usage` (or `response`): a call completed. Emit one of the two per call, not both. */
export interface OpenAIUsageEvent {
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Whole call, retries included. */
  latencyMs: number;
  /** Cost in USD, computed by the client that knows the model's price (`@infra/openai` does); 0 when unknown. */
  costUsd?: number;
  endpoint?: string;
  operation?: string;
}

/** `error`: a call failed for good (once per call). */
export interface OpenAIErrorEvent {
  /** Stable error code, e.g. `RATE_LIMITED`, `CIRCUIT_OPEN`, `TIMEOUT`. */
  code: string;
  /** HTTP status, when the API answered. */
  status?: number;
  model?: string;
  endpoint?: string;
  operation?: string;
  /** Whole call, retries included. */
  latencyMs?: number;
}

/**
 * `retry { model, code?, status? }`, `rateLimited { scope, waiting }`, `fallback { from, to }`, `cacheHit { model }`.
 */
export interface OpenAIAuxiliaryEvents {
  retry: { model?: string; endpoint?: string; attempt?: number; delayMs?: number; code?: string; status?: number };
  rateLimited: { model?: string; endpoint?: string; scope?: string; retryAfterMs?: number; waiting?: boolean };
  fallback: { endpoint?: string; from?: string; to?: string; code?: string };
  cacheHit: { model?: string; endpoint?: string };
}

/** `breakerStateChange` (or `stateChange`): the client's circuit breaker changed state. */
export interface OpenAIBreakerEvent {
  /** New state: closed, half-open (halfOpen), open or isolated. `state` is accepted too. */
  to?: string;
  state?: string;
  from?: string;
  /** Breaker name. @default the attached client's name */
  name?: string;
}

/**
 * What {@link OpenAIMonitor.attach} subscribes to: `on(event, listener)` returning an unsubscribe function (or an
 * EventEmitter).
 */
export interface OpenAIEventSource {
  on(event: string, listener: (payload: unknown) => void): unknown;
  off?(event: string, listener: (payload: unknown) => void): unknown;
}

/** Options of an {@link OpenAIMonitor}. */
export interface OpenAIMonitorOptions {
  /** Where the metrics go. */
  metrics: MetricsCollector;
}

const BREAKER_STATES: Record<string, number> = {
  closed: 0,
  'half-open': 1,
  halfopen: 1,
  half_open: 1,
  open: 2,
  isolated: 3,
};

interface Instruments {
  requests: CounterMetric<'client' | 'model' | 'operation'>;
  duration: HistogramMetric<'client' | 'model' | 'operation' | 'outcome'>;
  retries: CounterMetric<'client' | 'model' | 'code'>;
  rateLimited: CounterMetric<'client' | 'scope' | 'waiting'>;
  fallbacks: CounterMetric<'client' | 'from' | 'to'>;
  cacheHits: CounterMetric<'client' | 'model'>;
  tokens: CounterMetric<'client' | 'model' | 'type'>;
  cost: CounterMetric<'client' | 'model'>;
  errors: CounterMetric<'client' | 'code' | 'status'>;
  breaker: GaugeMetric<'client' | 'breaker'>;
  transitions: CounterMetric<'client' | 'breaker' | 'to'>;
}

/** Turns an OpenAI client's events into request, latency, token, cost, error and breaker metrics. */
export class OpenAIMonitor {
  private readonly metrics: MetricsCollector;
  private instruments: Instruments | undefined;

  constructor(options: OpenAIMonitorOptions) {
    const o = optionalObject('options', options) as Partial<OpenAIMonitorOptions>;
    if (typeof (o.metrics as Partial<MetricsCollector> | undefined)?.counter !== 'function') {
      throw new InvalidOptionError('metrics', o.metrics, 'a MetricsCollector');
    }
    this.metrics = o.metrics as MetricsCollector;
  }

  /**
   * Subscribes to a client's events; returns a function that unsubscribes. `name` labels the
   * client's series (several clients can be attached).
   */
  attach(client: OpenAIEventSource, options: { name?: string } = {}): () => void {
    if (typeof (client as Partial<OpenAIEventSource> | null)?.on !== 'function') {
      throw new InvalidOptionError('client', client, 'an object with on(event, listener)');
    }
    const name = options.name === undefined ? 'openai' : nonEmptyString('name', options.name);
    const m = this.instrumented();
    const usage = (e: OpenAIUsageEvent): void => {
      const labels = { client: name, model: label(e.model), operation: label(e.operation ?? e.endpoint) };
      if (isCount(e.latencyMs)) m.duration.observe({ ...labels, outcome: 'ok' }, e.latencyMs / 1000);
      const prompt = isCount(e.promptTokens) ? e.promptTokens : 0;
      const completion = isCount(e.completionTokens) ? e.completionTokens : 0;
      m.tokens.inc({ client: name, model: labels.model, type: 'prompt' }, prompt);
      m.tokens.inc({ client: name, model: labels.model, type: 'completion' }, completion);
      // The cost comes with the event: the client knows the model and its price.
      m.cost.inc({ client: name, model: labels.model }, isCount(e.costUsd) ? e.costUsd : 0);
    };
    const breaker = (e: OpenAIBreakerEvent): void => {
      const raw: unknown = e.to ?? e.state;
      const to = typeof raw === 'string' ? raw.toLowerCase() : '';
      const value = BREAKER_STATES[to];
      if (value === undefined) return;
      const breakerName = label(e.name ?? name);
      m.breaker.set({ client: name, breaker: breakerName }, value);
      m.transitions.inc({ client: name, breaker: breakerName, to });
    };
    const listeners: [string, (payload: never) => void][] = [
      [
        'request',
        (e: OpenAIRequestEvent) => {
          m.requests.inc({ client: name, model: label(e.model), operation: label(e.operation ?? e.endpoint) });
        },
      ],
      ['response', usage],
      ['usage', usage],
      [
        'error',
        (e: OpenAIErrorEvent) => {
          m.errors.inc({
            client: name,
            code: label(e.code),
            status: typeof e.status === 'number' ? String(e.status) : 'none',
          });
          if (isCount(e.latencyMs)) {
            m.duration.observe(
              { client: name, model: label(e.model), operation: label(e.operation ?? e.endpoint), outcome: 'error' },
              e.latencyMs / 1000,
            );
          }
        },
      ],
      [
        'retry',
        (e: OpenAIAuxiliaryEvents['retry']) => {
          m.retries.inc({ client: name, model: label(e.model), code: label(e.code) });
        },
      ],
      [
        'rateLimited',
        (e: OpenAIAuxiliaryEvents['rateLimited']) => {
          m.rateLimited.inc({ client: name, scope: label(e.scope), waiting: e.waiting === false ? 'false' : 'true' });
        },
      ],
      [
        'fallback',
        (e: OpenAIAuxiliaryEvents['fallback']) => {
          m.fallbacks.inc({ client: name, from: label(e.from), to: label(e.to) });
        },
      ],
      [
        'cacheHit',
        (e: OpenAIAuxiliaryEvents['cacheHit']) => {
          m.cacheHits.inc({ client: name, model: label(e.model) });
        },
      ],
      ['breakerStateChange', breaker],
      ['stateChange', breaker],
    ];
    const unsubscribes = listeners.map(([event, listener]) => {
      const safe = (payload: unknown): void => {
        // A malformed payload must not throw into the client that emitted it.
        if (typeof payload === 'object' && payload !== null) listener(payload as never);
      };
      const result = client.on(event, safe);
      return typeof result === 'function' ? (result as () => void) : () => client.off?.(event, safe);
    });
    return () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
  }

  private instrumented(): Instruments {
    const metrics = this.metrics;
    this.instruments ??= {
      requests: metrics.counter({
        name: 'openai_requests_total',
        help: 'OpenAI API requests sent (each attempt)',
        labelNames: ['client', 'model', 'operation'],
      }),
      retries: metrics.counter({
        name: 'openai_retries_total',
        help: "OpenAI attempts retried, by the failed attempt's code",
        labelNames: ['client', 'model', 'code'],
      }),
      rateLimited: metrics.counter({
        name: 'openai_rate_limited_total',
        help: 'Calls held back (waiting="true") or refused by the client-side limiter',
        labelNames: ['client', 'scope', 'waiting'],
      }),
      fallbacks: metrics.counter({
        name: 'openai_fallbacks_total',
        help: 'Fallbacks to another model',
        labelNames: ['client', 'from', 'to'],
      }),
      cacheHits: metrics.counter({
        name: 'openai_cache_hits_total',
        help: 'Calls answered from the response cache',
        labelNames: ['client', 'model'],
      }),
      duration: metrics.histogram({
        name: 'openai_request_duration_seconds',
        help: 'Latency of OpenAI API calls (retries included) by outcome',
        labelNames: ['client', 'model', 'operation', 'outcome'],
        buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
      }),
      tokens: metrics.counter({
        name: 'openai_tokens_total',
        help: 'Tokens used, by type (prompt, completion)',
        labelNames: ['client', 'model', 'type'],
      }),
      cost: metrics.counter({
        name: 'openai_cost_usd_total',
        help: 'Cost of OpenAI API calls in USD, as reported by the client',
        labelNames: ['client', 'model'],
      }),
      errors: metrics.counter({
        name: 'openai_errors_total',
        help: 'Failed OpenAI API calls by error code and HTTP status',
        labelNames: ['client', 'code', 'status'],
      }),
      breaker: metrics.gauge({
        name: 'openai_breaker_state',
        help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 isolated',
        labelNames: ['client', 'breaker'],
      }),
      transitions: metrics.counter({
        name: 'openai_breaker_transitions_total',
        help: 'Circuit breaker state changes',
        labelNames: ['client', 'breaker', 'to'],
      }),
    };
    return this.instruments;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

// Label values come from another package's events: keep them short and never undefined.
function label(value: unknown): string {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 80) : 'unknown';
}
