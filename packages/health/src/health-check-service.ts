import { HealthError, InvalidOptionError } from './errors.js';
import { runCheck, type CheckDefinition } from './run-check.js';
import { worst, type HealthStatus } from './status.js';
import type { CheckFunction, CheckOptions, CheckResult, HealthReport, RunOptions } from './types.js';
import { fn, nonEmptyString, nonNegative, optionalBoolean, optionalObject, positive, stringArray } from './validate.js';

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
  private started = false;
  private shuttingDown = false;

  constructor(options: HealthCheckServiceOptions = {}) {
    const o = optionalObject('options', options);
    this.defaultTimeoutMs = o.defaultTimeoutMs === undefined ? 5000 : positive('defaultTimeoutMs', o.defaultTimeoutMs);
    this.cacheTtlMs = o.cacheTtlMs === undefined ? 1000 : nonNegative('cacheTtlMs', o.cacheTtlMs);
    if (o.startup !== undefined && o.startup !== 'checks' && o.startup !== 'manual') {
      throw new InvalidOptionError('startup', o.startup, '"checks" or "manual"');
    }
    this.startupMode = o.startup ?? 'checks';
    this.now = o.now === undefined ? () => performance.now() : fn<() => number>('now', o.now);
  }

  /**
   * Registers a check. The third argument is either the `critical` flag (as in
   * `register('database', fn, true)`) or a full {@link CheckOptions}.
   * @throws HealthError `DUPLICATE_CHECK` when the name is taken; `INVALID_OPTION` for bad input.
   */
  register(name: string, check: CheckFunction, options: CheckOptions | boolean = {}): this {
    nonEmptyString('name', name);
    fn('check', check);
    if (this.checks.has(name)) {
      throw new HealthError('DUPLICATE_CHECK', `A health check named "${name}" is already registered`);
    }
    const o =
      typeof options === 'boolean' ? { critical: options } : (optionalObject('options', options) as CheckOptions);
    this.checks.set(name, {
      name,
      fn: check,
      critical: optionalBoolean('critical', o.critical, false),
      timeoutMs: o.timeoutMs === undefined ? this.defaultTimeoutMs : positive('timeoutMs', o.timeoutMs),
      cacheTtlMs: o.cacheTtlMs === undefined ? this.cacheTtlMs : nonNegative('cacheTtlMs', o.cacheTtlMs),
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
    const o = optionalObject('options', options) as RunOptions;
    const started = this.now();
    const selected = this.select(o);
    const fresh = optionalBoolean('fresh', o.fresh, false);
    const checks = await Promise.all(selected.map((check) => this.result(check, fresh)));
    return {
      status: aggregate(checks),
      checks,
      time: new Date().toISOString(),
      durationMs: this.now() - started,
    };
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
    const criticalOnly = optionalBoolean('criticalOnly', o.criticalOnly, false);
    const tags = o.tags === undefined ? undefined : stringArray('tags', o.tags);
    let selected: CheckDefinition[];
    if (o.names === undefined) {
      selected = [...this.checks.values()];
    } else {
      selected = stringArray('names', o.names).map((name) => {
        const check = this.checks.get(name);
        if (!check) throw new HealthError('UNKNOWN_CHECK', `No health check named "${name}" is registered`);
        return check;
      });
    }
    return selected.filter(
      (check) =>
        (!criticalOnly || check.critical) && (tags === undefined || check.tags.some((tag) => tags.includes(tag))),
    );
  }

  private result(check: CheckDefinition, fresh: boolean): Promise<CheckResult> {
    const entry = this.cache.get(check.name);
    if (entry?.pending) return entry.pending;
    if (!fresh && entry?.result && this.now() - entry.at < check.cacheTtlMs) {
      return Promise.resolve({ ...entry.result, cached: true });
    }
    const current: CacheEntry = entry ?? { at: 0 };
    const pending = runCheck(check, this.now).then((result) => {
      // The check may have been unregistered (or re-registered) while it ran.
      if (this.checks.get(check.name) === check) {
        current.result = result;
        current.at = this.now();
      }
      delete current.pending;
      return result;
    });
    current.pending = pending;
    this.cache.set(check.name, current);
    return pending;
  }

  private failed(output: string): HealthReport {
    return { status: 'fail', checks: [], time: new Date().toISOString(), durationMs: 0, output };
  }
}

/** fail if a critical check failed; warn if any other check failed or any check warned; else pass. */
export function aggregate(checks: readonly Pick<CheckResult, 'status' | 'critical'>[]): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const check of checks) {
    status = worst(status, check.status === 'fail' && !check.critical ? 'warn' : check.status);
  }
  return status;
}

function optionalText(option: string, value: unknown): string | undefined {
  return value === undefined ? undefined : nonEmptyString(option, value);
}
