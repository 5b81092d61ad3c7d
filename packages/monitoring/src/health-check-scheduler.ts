import { silentLogger, type Logger } from '@infra/core';
import {
  HealthCheckService,
  type CheckFunction,
  type CheckOptions,
  type CheckResult,
  type HealthReport,
} from '@infra/health';
import type { ErrorMonitor } from './error-monitor.js';
import { HealthCheckFailedError } from './errors.js';
import { isSentryInitialized, sentryTransport, type SentryLike, type SentryTransport } from './sentry/transport.js';
import { nonNegative, optionalBoolean, optionalFn, optionalLogger, optionalObject, positive } from './validate.js';

/** Options of {@link HealthCheckScheduler.startHealthChecks}. */
export interface StartHealthChecksOptions {
  /** Time between runs, in milliseconds. @default 60000 */
  intervalMs?: number;
  /** Log every check on every run, not only changes. @default false */
  logAllChecks?: boolean;
  /**
   * Also report failing critical checks to Sentry (`@sentry/node`, initialised by the application).
   * When Sentry is missing or not initialised, this is said once and the scheduler goes on.
   * @default false
   */
  sendToSentry?: boolean;
  /** Run once right away rather than after the first interval. @default true */
  runImmediately?: boolean;
}

/** Options of a {@link HealthCheckScheduler}. */
export interface HealthCheckSchedulerOptions {
  /** Where checks are registered and run. @default a new HealthCheckService with no result caching */
  service?: HealthCheckService;
  /** Receives failing critical checks (domain `health`). @default undefined (logged only) */
  errorMonitor?: Pick<ErrorMonitor, 'captureError' | 'dispatch' | 'hasTransport'>;
  /** Receives status changes and failing checks, e.g. a pino logger. @default silent */
  logger?: Logger;
  /** Loads the Sentry SDK when `sendToSentry` is on. @default loads `@sentry/node` lazily on first use */
  loadSentry?: () => Promise<SentryLike>;
}

/**
 * Runs registered health checks periodically (on an unref'd timer), logs status changes (or every
 * check), reports critical checks that start failing to the error monitor and, when asked, to
 * Sentry, and keeps the last results.
 */
export class HealthCheckScheduler {
  /** The service the checks are registered with. */
  readonly service: HealthCheckService;
  private readonly errorMonitor: HealthCheckSchedulerOptions['errorMonitor'];
  private readonly logger: Logger;
  private readonly loadSentry: (() => Promise<SentryLike>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<HealthReport> | undefined;
  private last: HealthReport | undefined;
  private settings: Required<StartHealthChecksOptions> = {
    intervalMs: 60_000,
    logAllChecks: false,
    sendToSentry: false,
    runImmediately: true,
  };
  private sentry: SentryTransport | undefined;
  private sentryOffSaid = false;

  constructor(options: HealthCheckSchedulerOptions = {}) {
    const o = optionalObject('options', options) as HealthCheckSchedulerOptions;
    this.service = o.service ?? new HealthCheckService({ cacheTtlMs: 0 });
    this.errorMonitor = o.errorMonitor;
    this.logger = optionalLogger('logger', o.logger) ?? silentLogger;
    this.loadSentry = optionalFn<() => Promise<SentryLike>>('loadSentry', o.loadSentry);
  }

  /** Registers a check; the third argument is the critical flag or full check options. */
  registerHealthCheck(name: string, check: CheckFunction, options: CheckOptions | boolean = false): this {
    this.service.register(name, check, options);
    return this;
  }

  unregisterHealthCheck(name: string): boolean {
    return this.service.unregister(name);
  }

  /** Starts (or restarts with new options) the periodic runs. */
  startHealthChecks(options: StartHealthChecksOptions = {}): this {
    const o = optionalObject('options', options) as StartHealthChecksOptions;
    this.settings = {
      intervalMs: o.intervalMs === undefined ? 60_000 : positive('intervalMs', o.intervalMs),
      logAllChecks: optionalBoolean('logAllChecks', o.logAllChecks, false),
      sendToSentry: optionalBoolean('sendToSentry', o.sendToSentry, false),
      runImmediately: optionalBoolean('runImmediately', o.runImmediately, true),
    };
    this.clearTimer();
    if (this.settings.sendToSentry) this.prepareSentry();
    this.timer = setInterval(() => {
      void this.tick();
    }, this.settings.intervalMs);
    this.timer.unref();
    if (this.settings.runImmediately) void this.tick();
    return this;
  }

  /**
   * Stops the periodic runs (idempotent) and waits, up to `timeoutMs`, for a run in progress to
   * be recorded. `startHealthChecks()` may start them again.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    const given = optionalObject('options', options);
    const timeoutMs = given.timeoutMs === undefined ? 5000 : nonNegative('timeoutMs', given.timeoutMs);
    this.clearTimer();
    const running = this.running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([
      running.then(
        () => undefined,
        () => undefined,
      ),
      deadline,
    ]);
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  get isRunning(): boolean {
    return this.timer !== undefined;
  }

  /** Runs every check now (not cached), logs and reports like a periodic run, and returns the report. */
  async runHealthChecks(): Promise<HealthReport> {
    this.running ??= this.service
      .run({ fresh: true })
      .then(async (report) => {
        await this.record(report);
        return report;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** The last complete report, if any run finished. */
  getLastReport(): HealthReport | undefined {
    return this.last;
  }

  /** The last result of each check, by name. */
  getLastResults(): Record<string, CheckResult> {
    return Object.fromEntries((this.last?.checks ?? []).map((check) => [check.name, check]));
  }

  private async tick(): Promise<void> {
    // A run still going (slow checks) is not doubled up by the next tick.
    if (this.running) return;
    try {
      await this.runHealthChecks();
    } catch (error) {
      this.logger.error({ error }, 'health check run failed');
    }
  }

  private async record(report: HealthReport): Promise<void> {
    const previous = this.getLastResults();
    const previousStatus = this.last?.status;
    this.last = report;
    for (const check of report.checks) {
      const before = previous[check.name]?.status;
      const changed = before === undefined ? check.status !== 'pass' : before !== check.status;
      if (this.settings.logAllChecks || changed) this.log(check, before);
      if (check.critical && check.status === 'fail' && before !== 'fail') await this.report(check);
    }
    if (previousStatus !== undefined && previousStatus !== report.status) {
      this.logger.info({ from: previousStatus, to: report.status }, `health status changed to ${report.status}`);
    }
  }

  private log(check: CheckResult, before: string | undefined): void {
    const fields = {
      check: check.name,
      status: check.status,
      previous: before,
      critical: check.critical,
      durationMs: Math.round(check.durationMs),
      output: check.output,
      error: check.error,
    };
    const message = `health check "${check.name}" ${check.status}${before !== undefined && before !== check.status ? ` (was ${before})` : ''}`;
    if (check.status === 'pass') this.logger.info(fields, message);
    else if (check.status === 'warn' || !check.critical) this.logger.warn(fields, message);
    else this.logger.error(fields, message);
  }

  private async report(check: CheckResult): Promise<void> {
    if (!this.errorMonitor) return;
    const result = this.errorMonitor.captureError(new HealthCheckFailedError(check.name, check.output), {
      domain: 'health',
      tags: { check: check.name },
      context: { check: check.name, output: check.output, error: check.error, durationMs: check.durationMs },
      fingerprint: ['health-check', check.name],
    });
    if (!result.captured || !this.settings.sendToSentry || this.errorMonitor.hasTransport('sentry')) return;
    const sentry = this.sentry;
    if (!sentry) return;
    const sdk = await sentry.ready().catch(() => undefined);
    if (sdk && isSentryInitialized(sdk)) this.errorMonitor.dispatch(result.event, [sentry]);
    else
      this.sentryOff(sdk ? 'Sentry is not initialised (call Sentry.init({ dsn }))' : '@sentry/node is not installed');
  }

  private prepareSentry(): void {
    const loader = this.loadSentry;
    this.sentry ??= loader ? lazyTransport(loader) : sentryTransport();
    void this.sentry.ready().then(
      (sdk) => {
        if (!isSentryInitialized(sdk)) this.sentryOff('Sentry is not initialised (call Sentry.init({ dsn }))');
      },
      () => {
        this.sentryOff('@sentry/node is not installed');
      },
    );
  }

  private sentryOff(reason: string): void {
    if (this.sentryOffSaid) return;
    this.sentryOffSaid = true;
    this.logger.warn({ reason }, `Sentry reporting of health checks is off: ${reason}; failures are still logged`);
  }
}

function lazyTransport(loader: () => Promise<SentryLike>): SentryTransport {
  let transport: Promise<SentryTransport> | undefined;
  const get = (): Promise<SentryTransport> => (transport ??= loader().then((sentry) => sentryTransport({ sentry })));
  return {
    name: 'sentry',
    ready: () => get().then((t) => t.ready()),
    send: (event) => get().then((t) => t.send(event)),
  };
}
