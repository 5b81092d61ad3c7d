import { describeValue, withSpan } from '@infra/core';
import { CheckTimeoutError, HealthError } from './errors.js';
import { normalizeStatus } from './status.js';
import { tracer } from './telemetry.js';
import type { CheckFunction, CheckResult } from './types.js';

/** A registered check with its options resolved. */
export interface CheckDefinition {
  readonly name: string;
  readonly fn: CheckFunction;
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly cacheTtlMs: number;
  readonly tags: readonly string[];
  readonly componentType: string | undefined;
  readonly componentId: string | undefined;
  readonly measurement: string | undefined;
}

export type ResolvedCheckOptions = Omit<CheckDefinition, 'name' | 'fn'>;

/**
 * Runs one check bounded by its timeout. Never rejects: a throw, a rejection, an invalid return
 * value or a timeout all become a failed result, so one bad dependency cannot break a probe.
 */
export function runCheck(check: CheckDefinition, now: () => number): Promise<CheckResult> {
  const attributes = {
    'health.check.name': check.name,
    'health.check.critical': check.critical,
    'health.check.component_type': check.componentType,
  };
  // The check's own work (a query, a ping) becomes children of this span.
  return withSpan(tracer, `health check ${check.name}`, { attributes }, async (span) => {
    const result = await runUntraced(check, now);
    span?.setAttributes({
      'health.check.status': result.status,
      'error.type': result.error && (result.error.code ?? 'Error'),
    });
    return result;
  });
}

async function runUntraced(check: CheckDefinition, now: () => number): Promise<CheckResult> {
  const started = now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new CheckTimeoutError(check.name, check.timeoutMs);
      controller.abort(error);
      reject(error);
    }, check.timeoutMs);
    timer.unref();
  });
  try {
    const value = await Promise.race([invoke(check, controller.signal), timedOut]);
    return fromReturn(check, value, now() - started);
  } catch (error) {
    return base(check, 'fail', now() - started, {
      output: errorMessage(error),
      error: { ...codeOf(error), message: errorMessage(error) },
    });
  } finally {
    clearTimeout(timer);
  }
}

async function invoke(check: CheckDefinition, signal: AbortSignal): Promise<unknown> {
  // Called inside an async function so a synchronous throw becomes a rejection.
  return check.fn({ name: check.name, signal });
}

function fromReturn(check: CheckDefinition, value: unknown, durationMs: number): CheckResult {
  if (value === undefined || typeof value === 'boolean') {
    return base(check, value === false ? 'fail' : 'pass', durationMs, {});
  }
  if (typeof value !== 'object' || value === null || !('status' in value)) {
    throw new HealthError(
      'INVALID_STATUS',
      `Health check "${check.name}" returned ${describeValue(value)}; expected { status, message? }, a boolean or nothing`,
    );
  }
  const outcome = value as Record<string, unknown>;
  const status = normalizeStatus(outcome.status, check.name);
  const output = text(outcome.message) ?? text(outcome.output);
  const extra: Partial<CheckResult> = {};
  if (output !== undefined) extra.output = output;
  if (outcome.observedValue !== undefined) extra.observedValue = outcome.observedValue;
  const unit = text(outcome.observedUnit);
  if (unit !== undefined) extra.observedUnit = unit;
  if (typeof outcome.details === 'object' && outcome.details !== null) {
    extra.details = outcome.details as Record<string, unknown>;
  }
  return base(check, status, durationMs, extra);
}

function base(
  check: CheckDefinition,
  status: CheckResult['status'],
  durationMs: number,
  extra: Partial<CheckResult>,
): CheckResult {
  const result: CheckResult = {
    name: check.name,
    status,
    critical: check.critical,
    tags: check.tags,
    durationMs,
    time: new Date().toISOString(),
    cached: false,
    ...extra,
  };
  if (check.componentType !== undefined) result.componentType = check.componentType;
  if (check.componentId !== undefined) result.componentId = check.componentId;
  if (check.measurement !== undefined) result.measurement = check.measurement;
  return result;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return `Check threw a non-error value: ${describeValue(error)}`;
}

function codeOf(error: unknown): { code?: string } {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {};
}
