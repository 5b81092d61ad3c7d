import { Server as NetServer } from 'node:net';
import type { Logger } from '@infra/core';
import { HealthError, InvalidOptionError, check } from './errors.js';

/** A server to drain: a Fastify instance (`close()` returns a promise) or a `node:http` server. */
export interface DrainableServer {
  close(): unknown;
}

/**
 * Receives shutdown progress: {@link Logger} of `@infra/core`, which pino and console both fit.
 * @deprecated Use `Logger` from `@infra/core`; this name stays for one minor version.
 */
export type ShutdownLogger = Logger;

/** Options of a {@link GracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** Whose readiness turns to fail first, e.g. a `HealthCheckService`. @default undefined */
  health?: { beginShutdown(): void };
  /** Server whose in-flight requests drain after readiness fails. @default undefined */
  server?: DrainableServer;
  /**
   * Pause between readiness failing and the server closing, so that load balancers see the
   * failing probe and stop routing before connections are refused.
   * @default 0
   */
  readinessDelayMs?: number;
  /** Whole shutdown budget: steps still waiting when it runs out are skipped. @default 10000 */
  deadlineMs?: number;
  /** Budget of one closer (also bounded by what is left of the deadline). @default 5000 */
  closerTimeoutMs?: number;
  /** Signals that `installSignalHandlers()` listens to. @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /**
   * What happens after a signal-triggered shutdown: `true` calls `process.exit` (0 when every
   * step succeeded, 1 otherwise), `false` only sets `process.exitCode`, a function gets the code.
   * A second signal during shutdown exits at once with 1.
   * @default true
   */
  exit?: boolean | ((code: number) => void);
  /** Progress and problems, e.g. a pino logger. @default undefined (silent; failures still show in the report) */
  logger?: Logger;
}

/** Options of {@link GracefulShutdown.close}. */
export interface ShutdownCloseOptions {
  /** Budget of the whole shutdown, when `close()` is what starts it. @default the `deadlineMs` option */
  timeoutMs?: number;
  /** Why the service shuts down, as the report and the log lines show it. @default 'close' */
  reason?: string;
}

/** Outcome of one shutdown step. */
export interface ShutdownStep {
  name: string;
  status: 'ok' | 'error' | 'timeout' | 'skipped';
  durationMs: number;
  error?: string;
}

/** What {@link GracefulShutdown.shutdown} did. */
export interface ShutdownReport {
  reason: string;
  /** True when every step completed without error or timeout. */
  ok: boolean;
  durationMs: number;
  steps: ShutdownStep[];
}

interface Closer {
  name: string;
  close: () => unknown;
  timeoutMs: number | undefined;
}

/**
 * Ordered shutdown: readiness fails first, then (after `readinessDelayMs`) the server stops
 * accepting and drains in-flight requests, then the registered closers run in reverse order of
 * registration (last opened, first closed), each bounded, all within `deadlineMs`.
 */
export class GracefulShutdown {
  private readonly options: Required<
    Pick<GracefulShutdownOptions, 'readinessDelayMs' | 'deadlineMs' | 'closerTimeoutMs'>
  > &
    GracefulShutdownOptions;
  private readonly closers: Closer[] = [];
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  private running: Promise<ShutdownReport> | undefined;

  constructor(options: GracefulShutdownOptions = {}) {
    const o = check.plainObject('options', options) as GracefulShutdownOptions;
    if (o.health !== undefined) check.fn('health.beginShutdown', (o.health as Partial<typeof o.health>).beginShutdown);
    if (o.server !== undefined) check.fn('server.close', (o.server as Partial<DrainableServer>).close);
    if (o.exit !== undefined && typeof o.exit !== 'boolean') check.fn('exit', o.exit);
    if (o.signals !== undefined && (!Array.isArray(o.signals) || o.signals.some((s) => typeof s !== 'string'))) {
      throw new InvalidOptionError('signals', o.signals, 'an array of signal names');
    }
    check.optionalLogger('logger', o.logger);
    this.options = {
      ...o,
      readinessDelayMs: check.nonNegative('readinessDelayMs', o.readinessDelayMs ?? 0),
      deadlineMs: check.positive('deadlineMs', o.deadlineMs ?? 10_000),
      closerTimeoutMs: check.positive('closerTimeoutMs', o.closerTimeoutMs ?? 5000),
    };
  }

  /**
   * Registers a resource to close at shutdown (database pool, Redis client, consumer, …). Closers
   * run in reverse order of registration.
   */
  register(name: string, close: () => unknown, options: { timeoutMs?: number } = {}): this {
    check.nonEmptyString('name', name);
    check.fn('close', close);
    const o = check.plainObject('options', options) as { timeoutMs?: number };
    const timeoutMs = o.timeoutMs === undefined ? undefined : check.positive('timeoutMs', o.timeoutMs);
    if (this.running) throw new HealthError('INVALID_OPTION', `Cannot register "${name}": shutdown has already begun`);
    this.closers.push({ name, close, timeoutMs });
    return this;
  }

  get isShuttingDown(): boolean {
    return this.running !== undefined;
  }

  /** Runs the shutdown once, within `deadlineMs`; later calls return the same report. */
  shutdown(reason = 'shutdown'): Promise<ShutdownReport> {
    check.nonEmptyString('reason', reason);
    this.running ??= this.run(reason, this.options.deadlineMs);
    return this.running;
  }

  /**
   * Shuts down (unless a signal or {@link shutdown} already began to), within `timeoutMs`, then
   * removes the signal handlers. Never exits the process. Idempotent: later calls return the same
   * report.
   */
  async close(options: ShutdownCloseOptions = {}): Promise<ShutdownReport> {
    const o = check.plainObject('options', options) as ShutdownCloseOptions;
    const timeoutMs = check.positive('timeoutMs', o.timeoutMs ?? this.options.deadlineMs);
    const reason = check.nonEmptyString('reason', o.reason ?? 'close');
    this.running ??= this.run(reason, timeoutMs);
    try {
      return await this.running;
    } finally {
      this.removeSignalHandlers();
    }
  }

  /** Same as {@link close} with its defaults, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Listens to the configured signals; returns a function that removes the handlers again.
   * Calling it twice does not add handlers twice.
   */
  installSignalHandlers(): () => void {
    for (const signal of this.options.signals ?? ['SIGTERM', 'SIGINT']) {
      if (this.handlers.has(signal)) continue;
      const handler = (): void => {
        this.onSignal(signal);
      };
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
    return () => {
      this.removeSignalHandlers();
    };
  }

  removeSignalHandlers(): void {
    for (const [signal, handler] of this.handlers) process.removeListener(signal, handler);
    this.handlers.clear();
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.running) {
      this.options.logger?.warn({ signal }, 'second signal during shutdown: exiting now');
      this.exit(1);
      return;
    }
    void this.shutdown(signal).then((report) => {
      this.exit(report.ok ? 0 : 1);
    });
  }

  private exit(code: number): void {
    const exit = this.options.exit ?? true;
    if (typeof exit === 'function') exit(code);
    else if (exit) process.exit(code);
    else process.exitCode = code;
  }

  private async run(reason: string, deadlineMs: number): Promise<ShutdownReport> {
    const { health, server, logger, readinessDelayMs, closerTimeoutMs } = this.options;
    const started = performance.now();
    const deadline = started + deadlineMs;
    const steps: ShutdownStep[] = [];
    logger?.info({ reason }, 'shutdown started');
    if (health)
      steps.push(
        await step(
          'readiness',
          () => {
            health.beginShutdown();
          },
          deadline - performance.now(),
        ),
      );
    if (readinessDelayMs > 0) {
      steps.push(await step('readiness-delay', () => delay(readinessDelayMs), deadline - performance.now()));
    }
    if (server) {
      const drained = await step('server', () => closeServer(server), deadline - performance.now());
      // A drain that ran out of time leaves connections open: cut them so closers can proceed.
      if (drained.status === 'timeout') closeAllConnections(server);
      steps.push(drained);
    }
    for (const closer of [...this.closers].reverse()) {
      const budget = Math.min(closer.timeoutMs ?? closerTimeoutMs, deadline - performance.now());
      steps.push(await step(closer.name, closer.close, budget));
    }
    const report: ShutdownReport = {
      reason,
      ok: steps.every((s) => s.status === 'ok'),
      durationMs: performance.now() - started,
      steps,
    };
    for (const s of steps) if (s.status !== 'ok') logger?.warn({ step: s }, `shutdown step "${s.name}" ${s.status}`);
    logger?.info({ reason, ok: report.ok, durationMs: report.durationMs }, 'shutdown finished');
    return report;
  }
}

// Timers run on the event loop's cached clock and may fire up to a millisecond before the same
// delay measured with performance.now(): a step left with less than this counts as out of time.
const MIN_BUDGET_MS = 2;

async function step(name: string, action: () => unknown, budgetMs: number): Promise<ShutdownStep> {
  if (budgetMs < MIN_BUDGET_MS) return { name, status: 'skipped', durationMs: 0, error: 'shutdown deadline reached' };
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, Math.ceil(budgetMs), 'timeout');
    timer.unref();
  });
  try {
    const outcome = await Promise.race([
      Promise.resolve()
        .then(action)
        .then(() => 'ok' as const),
      timedOut,
    ]);
    const result: ShutdownStep = { name, status: outcome, durationMs: performance.now() - started };
    if (outcome === 'timeout') result.error = `did not finish within ${Math.round(budgetMs)} ms`;
    return result;
  } catch (error) {
    return {
      name,
      status: 'error',
      durationMs: performance.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function closeServer(server: DrainableServer): Promise<void> {
  if (server instanceof NetServer) {
    return new Promise((resolve, reject) => {
      server.close((error) => {
        if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
        else resolve();
      });
      // Idle keep-alive sockets would hold close() open until they time out.
      (server as Partial<{ closeIdleConnections(): void }>).closeIdleConnections?.();
    });
  }
  return Promise.resolve(server.close()).then(() => undefined);
}

function closeAllConnections(server: DrainableServer): void {
  const inner = (server as { server?: unknown }).server ?? server;
  (inner as Partial<{ closeAllConnections(): void }>).closeAllConnections?.();
}

/** Creates a {@link GracefulShutdown}. */
export function createGracefulShutdown(options: GracefulShutdownOptions = {}): GracefulShutdown {
  return new GracefulShutdown(options);
}
