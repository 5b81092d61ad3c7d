import type { Logger } from '@infra/core';
import { HealthError, InvalidOptionError, check, stringArray } from './errors.js';
import { withSpan } from '@infra/core';
import { runCheck, type CheckDefinition } from './run-check.js';
import { tracer } from './telemetry.js';
import { worst, type HealthStatus } from './status.js';
import type { CheckFunction, CheckOptions, CheckResult, HealthReport, RunOptions } from './types.js';

/** Options of a {@link HealthCheckService}. */
export interface HealthCheckServiceOptions {
  /**
   * Timeout of a check registered without its own `timeoutMs`, in milliseconds.
   * @default 5000
   */
  defaultTimeoutMs?: number;
  /**
   * How long a check's result is reused, in milliseconds, so that a flood of probes does not
   * flood the dependency. 0 runs the checks on every report (concurrent reports still share one run).
   * @default 1000
   */
  cacheTtlMs?: number;
  /**
   * When `startup()` passes: `'checks'` once the critical checks have passed one time (latched),
   * `'manual'` only after `markStarted()`.
   * @default 'checks'
   */
  startup?: 'checks' | 'manual';
  /** Clock in milliseconds, for tests. @default performance.now */
  now?: () => number;
  /**
   * Logs each change of a check's status, with its output and error: `info` back to pass, `warn`
   * to warn or to fail; e.g. a pino logger. @default undefined (nothing is logged)
   */
  logger?: Logger;
}

interface CacheEntry {
  result?: CheckResult;
  at: number;
  pending?: Promise<CheckResult>;
}

/**
 * Registry and runner of health checks. Checks run concurrently, each bounded by its timeout, and
 * their results are cached for `cacheTtlMs`; any failing critical check fails the report, any
 * other failure or warning turns it to warn.
 */
export class HealthCheckService {
  private readonly checks = new Map<string, CheckDefinition>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly defaultTimeoutMs: number;
  private readonly cacheTtlMs: number;
  private readonly startupMode: 'checks' | 'manual';
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private started = false;
  private shuttingDown = false;

  constructor(options: HealthCheckServiceOptions = {}) {
    const o = check.plainObject('options', options) as HealthCheckServiceOptions;
    this.defaultTimeoutMs = check.positive('defaultTimeoutMs', o.defaultTimeoutMs ?? 5000);
    this.cacheTtlMs = check.nonNegative('cacheTtlMs', o.cacheTtlMs ?? 1000);
    this.startupMode = check.oneOf('startup', o.startup ?? 'checks', ['checks', 'manual']);
    this.now = check.optionalFn<() => number>('now', o.now) ?? (() => performance.now());
    this.logger = check.optionalLogger('logger', o.logger);
  }

  /**
   * Registers a check. The third argument is either the `critical` flag (as in
   * `register('database', fn, true)`) or a full {@link CheckOptions}.
   * @throws HealthError `DUPLICATE_CHECK` when the name is taken; `INVALID_OPTION` for bad input.
   */
  register(name: string, fn: CheckFunction, options: CheckOptions | boolean = {}): this {
    check.nonEmptyString('name', name);
    check.fn('check', fn);
    if (this.checks.has(name)) {
      throw new HealthError('DUPLICATE_CHECK', `A health check named "${name}" is already registered`);
    }
    const o =
      typeof options === 'boolean' ? { critical: options } : (check.plainObject('options', options) as CheckOptions);
    this.checks.set(name, {
      name,
      fn,
      critical: check.boolean('critical', o.critical ?? false),
      timeoutMs: check.positive('timeoutMs', o.timeoutMs ?? this.defaultTimeoutMs),
      cacheTtlMs: check.nonNegative('cacheTtlMs', o.cacheTtlMs ?? this.cacheTtlMs),
      tags: Object.freeze(stringArray('tags', o.tags)),
      componentType: optionalText('componentType', o.componentType),
      componentId: optionalText('componentId', o.componentId),
      measurement: optionalText('measurement', o.measurement),
    });
    return this;
  }

  /** Removes a check; returns false when no check had that name. */
  unregister(name: string): boolean {
    this.cache.delete(name);
    return this.checks.delete(name);
  }

  has(name: string): boolean {
    return this.checks.has(name);
  }

  /** Names of the registered checks, in registration order. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  /** Runs the selected checks (every check by default) and aggregates their results. */
  async run(options: RunOptions = {}): Promise<HealthReport> {
    const o = check.plainObject('options', options) as RunOptions;
    const started = this.now();
    const selected = this.select(o);
    const fresh = check.boolean('fresh', o.fresh ?? false);
    return withSpan(tracer, 'health report', {}, async (span) => {
      const checks = await Promise.all(selected.map((definition) => this.result(definition, fresh)));
      const status = aggregate(checks);
      span?.setAttributes({ 'health.status': status, 'health.checks': checks.length });
      return { status, checks, time: new Date().toISOString(), durationMs: this.now() - started };
    });
  }

  /** Liveness: the process answers. Never touches a dependency. */
  live(): HealthReport {
    return { status: 'pass', checks: [], time: new Date().toISOString(), durationMs: 0 };
  }

  /** Readiness: the critical checks, and fail at once while shutting down (without running them). */
  async ready(options: Pick<RunOptions, 'fresh'> = {}): Promise<HealthReport> {
    if (this.shuttingDown) return this.failed('shutting down');
    return this.run({ ...options, criticalOnly: true });
  }

  /**
   * Startup: passes for good once started. In `'checks'` mode the critical checks run until they
   * pass once; in `'manual'` mode only {@link markStarted} starts.
   */
  async startup(): Promise<HealthReport> {
    if (this.started) return { ...this.live(), output: 'started' };
    if (this.startupMode === 'manual') return this.failed('starting');
    const report = await this.run({ criticalOnly: true });
    if (report.status !== 'fail') this.started = true;
    return report;
  }

  /** Marks the service as started: `startup()` passes from now on. */
  markStarted(): void {
    this.started = true;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Turns readiness to fail, so load balancers stop sending traffic before the server closes. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Forgets cached results, so the next report runs every check. */
  clearCache(): void {
    for (const [name, entry] of this.cache) {
      if (entry.pending === undefined) this.cache.delete(name);
      else delete entry.result;
    }
  }

  private select(o: RunOptions): CheckDefinition[] {
    const criticalOnly = check.boolean('criticalOnly', o.criticalOnly ?? false);
    const tags = o.tags === undefined ? undefined : stringArray('tags', o.tags);
    let selected: CheckDefinition[];
    if (o.names === undefined) {
      selected = [...this.checks.values()];
    } else {
      selected = stringArray('names', o.names).map((name) => {
        const definition = this.checks.get(name);
        if (!definition) throw new HealthError('UNKNOWN_CHECK', `No health check named "${name}" is registered`);
        return definition;
      });
    }
    return selected.filter(
      (definition) =>
        (!criticalOnly || definition.critical) &&
        (tags === undefined || definition.tags.some((tag) => tags.includes(tag))),
    );
  }

  private result(definition: CheckDefinition, fresh: boolean): Promise<CheckResult> {
    const entry = this.cache.get(definition.name);
    if (entry?.pending) return entry.pending;
    if (!fresh && entry?.result && this.now() - entry.at < definition.cacheTtlMs) {
      return Promise.resolve({ ...entry.result, cached: true });
    }
    const current: CacheEntry = entry ?? { at: 0 };
    const pending = runCheck(definition, this.now).then((result) => {
      // The check may have been unregistered (or re-registered) while it ran.
      if (this.checks.get(definition.name) === definition) {
        this.logChange(current.result?.status, result);
        current.result = result;
        current.at = this.now();
      }
      delete current.pending;
      return result;
    });
    current.pending = pending;
    this.cache.set(definition.name, current);
    return pending;
  }

  /** A check's first result unless it passes, then each change of status. */
  private logChange(previous: HealthStatus | undefined, result: CheckResult): void {
    if (this.logger === undefined || result.status === (previous ?? 'pass')) return;
    const { name, status, critical, output, error } = result;
    this.logger[status === 'pass' ? 'info' : 'warn'](
      { check: name, from: previous ?? null, to: status, critical, output, error },
      `health check "${name}" ${status}${output === undefined ? '' : `: ${output}`}`,
    );
  }

  private failed(output: string): HealthReport {
    return { status: 'fail', checks: [], time: new Date().toISOString(), durationMs: 0, output };
  }
}

/** fail if a critical check failed; warn if any other check failed or any check warned; else pass. */
export function aggregate(checks: readonly Pick<CheckResult, 'status' | 'critical'>[]): HealthStatus {
  const given: unknown = checks;
  if (!Array.isArray(given)) throw new InvalidOptionError('checks', given, 'an array of check results');
  let status: HealthStatus = 'pass';
  for (const result of checks) {
    status = worst(status, result.status === 'fail' && !result.critical ? 'warn' : result.status);
  }
  return status;
}

function optionalText(option: string, value: unknown): string | undefined {
  return value === undefined ? undefined : check.nonEmptyString(option, value);
}
