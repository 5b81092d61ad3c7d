import { check } from './errors.js';
import { toOpenAIClientError } from './to-client-error.js';

export interface HealthCheckOptions {
  /** How long a result is reused before the next probe, in ms; 0 probes on every call. @default 30_000 */
  cacheTtlMs?: number;
  /** Timeout of the probe, in ms. @default 5_000 */
  timeoutMs?: number;
  /** A probe slower than this (ms) reports `warn`. @default 2_000 */
  degradedLatencyMs?: number;
}

/**
 * One check in the `application/health+json` style (draft-inadarei-api-health-check), the shape
 * `@infra/health` aggregates.
 */
export interface HealthCheckResult {
  status: 'pass' | 'warn' | 'fail';
  componentType: 'system';
  /** Latency of the probe. */
  observedValue?: number;
  observedUnit?: 'ms';
  /** Why the status is not `pass`; never contains the API key. */
  output?: string;
  /** When the probe ran (ISO 8601). */
  time: string;
}

/** What the probe needs from a client: the SDK's `models.list`, and the breaker states. */
export interface HealthProbeTarget {
  models: { list(options?: { timeout?: number; maxRetries?: number }): PromiseLike<unknown> };
  breakerStates?: () => Record<string, string>;
}

/**
 * Returns a health check function: a `models.list` probe (cheap, no tokens), cached for
 * `cacheTtlMs`, with concurrent callers sharing one probe. `warn` when the probe is slow, when the
 * client-side or OpenAI rate limit refused it, or when some model's breaker is not closed.
 */
export function createHealthCheck(
  target: HealthProbeTarget,
  options: HealthCheckOptions = {},
): () => Promise<HealthCheckResult> {
  const cacheTtlMs = check.nonNegative('health.cacheTtlMs', options.cacheTtlMs ?? 30_000);
  const timeoutMs = check.positive('health.timeoutMs', options.timeoutMs ?? 5_000);
  const degradedLatencyMs = check.positive('health.degradedLatencyMs', options.degradedLatencyMs ?? 2_000);
  let cached: { result: HealthCheckResult; at: number } | undefined;
  let inFlight: Promise<HealthCheckResult> | undefined;

  const probe = async (): Promise<HealthCheckResult> => {
    const started = Date.now();
    const time = new Date(started).toISOString();
    try {
      await target.models.list({ timeout: timeoutMs, maxRetries: 0 });
    } catch (error) {
      const observedValue = Date.now() - started;
      const coded = toOpenAIClientError(error);
      const rateLimited = coded?.code === 'RATE_LIMITED';
      const output = coded ? `${coded.code}: ${coded.message}` : 'OpenAI probe failed';
      return {
        status: rateLimited ? 'warn' : 'fail',
        componentType: 'system',
        observedValue,
        observedUnit: 'ms',
        output,
        time,
      };
    }
    const observedValue = Date.now() - started;
    const notClosed = Object.entries(target.breakerStates?.() ?? {}).filter(([, state]) => state !== 'closed');
    if (notClosed.length > 0) {
      const output = `circuit not closed for ${notClosed.map(([model, state]) => `${model} (${state})`).join(', ')}`;
      return { status: 'warn', componentType: 'system', observedValue, observedUnit: 'ms', output, time };
    }
    if (observedValue > degradedLatencyMs) {
      const output = `probe took ${observedValue} ms (over ${degradedLatencyMs} ms)`;
      return { status: 'warn', componentType: 'system', observedValue, observedUnit: 'ms', output, time };
    }
    return { status: 'pass', componentType: 'system', observedValue, observedUnit: 'ms', time };
  };

  return async () => {
    if (cached && Date.now() - cached.at < cacheTtlMs) return cached.result;
    inFlight ??= probe().then((result) => {
      cached = { result, at: Date.now() };
      inFlight = undefined;
      return result;
    });
    return inFlight;
  };
}
