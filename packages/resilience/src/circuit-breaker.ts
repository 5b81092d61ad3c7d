import { CircuitOpenError, InvalidOptionError, abortError, check, isResilienceError } from './errors.js';
import { EventHub, addSpanEvent, type Logger } from '@infra/core';
import { createWindow, type OutcomeWindow, type SlidingWindowOptions } from './outcome-window.js';
import { contextFor, type ExecuteOptions, type Policy, type PolicyContext, type PolicyFn } from './policy.js';
import { DeadlineQueue } from './deadline.js';

export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface CircuitBreakerOptions {
  /**
   * Failure rate (0 < x <= 1) over the sliding window at or above which the breaker opens.
   * @default 0.5
   */
  failureThreshold?: number;
  /**
   * Calls the window must hold before the failure rate may open the breaker.
   * @default 10
   */
  minimumThroughput?: number;
  /**
   * Window over which the failure rate is measured: the last `size` calls, or the calls of the
   * last `durationMs` (which reads the clock on every call).
   * @default { kind: 'count', size: 100 }
   */
  slidingWindow?: SlidingWindowOptions;
  /** Also open after this many failures in a row, whatever the rate. Off when unset. */
  consecutiveFailures?: number;
  /**
   * Milliseconds the breaker stays open before it admits half-open probes.
   * @default 30_000
   */
  resetTimeoutMs?: number;
  /** The documented spelling of {@link CircuitBreakerOptions.resetTimeoutMs}, in milliseconds. */
  resetTimeout?: number;
  /**
   * Per-call timeout in milliseconds; the call's `signal` is aborted and the call fails with
   * `TIMEOUT` (counted as a failure). 0 turns it off.
   * @default 0
   */
  timeoutMs?: number;
  /** The documented spelling of {@link CircuitBreakerOptions.timeoutMs}, in milliseconds. */
  timeout?: number;
  /**
   * Probe calls admitted in half-open; all must succeed to close, one failure re-opens.
   * Further calls are rejected with `CIRCUIT_OPEN` while the probes run.
   * @default 1
   */
  halfOpenMaxProbes?: number;
  /**
   * Decides whether an error counts against the breaker (e.g. return false for HTTP 4xx).
   * An error that is not a failure is re-thrown to the caller and counts as a success.
   * @default every error is a failure
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * Calls slower than this (ms) count as slow; see `slowCallRateThreshold`. A slow half-open probe
   * re-opens the breaker. Off when unset.
   */
  slowCallDurationMs?: number;
  /**
   * Rate of slow calls (0 < x <= 1) at or above which the breaker opens.
   * @default 1
   */
  slowCallRateThreshold?: number;
  /** Clock in milliseconds, for tests. @default Date.now */
  now?: () => number;
  /**
   * Logs each state change: `warn` when the breaker opens, `info` when it half-opens or closes;
   * e.g. a pino logger. @default undefined (nothing is logged; `stateChange` still fires)
   */
  logger?: Logger;
}

export interface BreakerExecuteOptions<T> extends ExecuteOptions {
  /**
   * Value to return instead of throwing when the call is rejected (`CIRCUIT_OPEN`), times out
   * or fails with an error that counts as a failure.
   */
  fallback?: (error: unknown) => T | PromiseLike<T>;
}

export interface CircuitBreakerEvents {
  stateChange: { name: string; from: CircuitState; to: CircuitState };
  success: { name: string; durationMs: number; slow: boolean };
  failure: { name: string; durationMs: number; error: unknown; slow: boolean };
  reject: { name: string; state: CircuitState; retryAfterMs: number };
  timeout: { name: string; timeoutMs: number };
}

export interface CircuitBreakerStats {
  name: string;
  state: CircuitState;
  /** Calls in the current sliding window. */
  window: { total: number; failures: number; slow: number; failureRate: number; slowRate: number };
  consecutiveFailures: number;
  /** When the breaker last opened (epoch ms), if it is open. */
  openedAt: number | undefined;
  /** When the breaker admits its next probe (epoch ms), if it is open. */
  nextAttemptAt: number | undefined;
  /** Lifetime counters. */
  totals: { successes: number; failures: number; rejections: number; timeouts: number; fallbacks: number };
}

/**
 * Stops calling a dependency that keeps failing, and tries it again after `resetTimeoutMs`.
 *
 * The breaker keeps no timer: the move from open to half-open happens when a call (or a read of
 * `state`) finds the reset timeout elapsed, so an idle breaker costs nothing and never holds the
 * process open.
 */
export class CircuitBreaker implements Policy {
  readonly name: string;
  private readonly events = new EventHub<CircuitBreakerEvents>();
  private readonly window: OutcomeWindow;
  private readonly failureThreshold: number;
  private readonly minimumThroughput: number;
  private readonly consecutiveLimit: number;
  private readonly resetTimeoutMs: number;
  private readonly timeoutMs: number;
  readonly #deadlines: DeadlineQueue | undefined;
  private readonly maxProbes: number;
  private readonly isFailure: ((error: unknown) => boolean) | undefined;
  private readonly slowMs: number;
  private readonly slowRate: number;
  private readonly now: () => number;

  private current: CircuitState = 'closed';
  /** Incremented on every state change so that late results of an earlier state are ignored. */
  private generation = 0;
  private consecutive = 0;
  private openedAt = 0;
  private nextAttemptAt = 0;
  private probesAdmitted = 0;
  private probeSuccesses = 0;
  private readonly counters = { successes: 0, failures: 0, rejections: 0, timeouts: 0, fallbacks: 0 };

  constructor(name: string, options: CircuitBreakerOptions = {}) {
    this.name = check.nonEmptyString('name', name);
    this.failureThreshold = check.ratio('failureThreshold', options.failureThreshold ?? 0.5);
    this.minimumThroughput = check.integer('minimumThroughput', options.minimumThroughput ?? 10);
    this.window = createWindow(options.slidingWindow ?? { kind: 'count', size: 100 });
    this.consecutiveLimit =
      options.consecutiveFailures === undefined ? 0 : check.integer('consecutiveFailures', options.consecutiveFailures);
    this.resetTimeoutMs = msOption(
      'resetTimeoutMs',
      options.resetTimeoutMs,
      'resetTimeout',
      options.resetTimeout,
      30_000,
    );
    this.timeoutMs = msOption('timeoutMs', options.timeoutMs, 'timeout', options.timeout, 0);
    this.#deadlines = this.timeoutMs > 0 ? new DeadlineQueue(this.timeoutMs, `Circuit "${this.name}" call`) : undefined;
    this.maxProbes = check.integer('halfOpenMaxProbes', options.halfOpenMaxProbes ?? 1);
    this.isFailure = check.optionalFn('isFailure', options.isFailure);
    this.slowMs =
      options.slowCallDurationMs === undefined
        ? 0
        : check.nonNegative('slowCallDurationMs', options.slowCallDurationMs);
    this.slowRate = check.ratio('slowCallRateThreshold', options.slowCallRateThreshold ?? 1);
    this.now = check.optionalFn<() => number>('now', options.now) ?? Date.now;
    const logger = check.optionalLogger('logger', options.logger);
    if (logger !== undefined) {
      this.events.on('stateChange', ({ name, from, to }) => {
        logger[to === 'open' ? 'warn' : 'info']({ breaker: name, from, to }, `circuit "${name}" ${to}`);
      });
    }
  }

  /** Current state; an open breaker whose reset timeout has elapsed reports (and becomes) half-open. */
  get state(): CircuitState {
    if (this.current === 'open' && this.now() >= this.nextAttemptAt) this.transition('half-open');
    return this.current;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof CircuitBreakerEvents>(event: K, listener: (payload: CircuitBreakerEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Runs `fn` under the breaker. `fn` receives `{ signal, attempt }`; the signal aborts on the
   * caller's abort and on this breaker's timeout.
   */
  execute<T>(fn: PolicyFn<T>, options?: BreakerExecuteOptions<T>): Promise<T> {
    const fallback = options?.fallback;
    return fallback ? this.executeWithFallback(fn, contextFor(options), fallback) : this.run(fn, contextFor(options));
  }

  /** Returns `fn` wrapped so that every call goes through this breaker. */
  wrap<A extends unknown[], T>(fn: (...args: A) => PromiseLike<T> | T): (...args: A) => Promise<T> {
    return (...args: A) => this.execute(() => fn(...args));
  }

  run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    return this.runWith(fn, context, this.#deadlines, undefined);
  }

  /** True when the breaker times its calls out itself (`timeout` option). @internal */
  get hasTimeout(): boolean {
    return this.#deadlines !== undefined;
  }

  /**
   * `run` under `deadlines` (this breaker's own, or a timeout policy's that `wrap()` fused into
   * it). `onFailure`, when given, takes over a failed or rejected call instead of a rejection, on
   * the same promise: how `wrap()` carries retry, breaker and timeout on one promise per call.
   * @internal
   */
  runWith<T>(
    fn: PolicyFn<T>,
    context: PolicyContext,
    deadlines: DeadlineQueue | undefined,
    onFailure: ((error: unknown) => Promise<T>) | undefined,
  ): Promise<T> {
    // The clock is read only when something needs a duration (listeners, slow-call detection) or
    // the window is a time window: see PERFORMANCE.md.
    const timed = this.slowMs > 0 || this.events.size > 0;
    const start = timed ? this.now() : 0;
    let probe = false;
    if (this.current !== 'closed') {
      try {
        probe = this.admit(this.now());
      } catch (error) {
        return onFailure ? onFailure(error) : Promise.reject(error);
      }
    }
    const generation = this.generation;
    const { signal } = context;
    if (signal.aborted) {
      if (probe) this.releaseProbe(generation);
      const aborted = abortError(signal);
      return onFailure ? onFailure(aborted) : Promise.reject(aborted);
    }
    if (deadlines) {
      // The deadline's own promise carries the outcome; the bookkeeping rides on its settlement.
      return deadlines.run(fn, context, 'aggressive', (failed, error) => {
        if (!failed) {
          this.onSuccess(timed, start, probe, generation);
          return undefined;
        }
        this.onError(error, start, probe, generation, signal);
        return onFailure?.(error);
      });
    }
    let pending: PromiseLike<T> | T;
    try {
      pending = fn(context);
    } catch (error) {
      this.onError(error, start, probe, generation, signal);
      return onFailure ? onFailure(error) : Promise.reject(error);
    }
    const settled = this.settle(pending, timed, start, probe, generation, signal);
    return onFailure ? settled.catch(onFailure) : settled;
  }

  /** Opens the breaker now, as if the failure threshold had been reached. */
  open(): void {
    this.transition('open');
  }

  /** Closes the breaker (also ends `isolate()`), clearing its window. */
  close(): void {
    this.transition('closed');
  }

  /** Holds the breaker open until `close()` is called: every call is rejected. */
  isolate(): void {
    this.transition('isolated');
  }

  stats(): CircuitBreakerStats {
    const state = this.state;
    const totals = this.window.totals(this.now());
    const open = state === 'open' || state === 'half-open';
    return {
      name: this.name,
      state,
      window: {
        ...totals,
        failureRate: totals.total === 0 ? 0 : totals.failures / totals.total,
        slowRate: totals.total === 0 ? 0 : totals.slow / totals.total,
      },
      consecutiveFailures: this.consecutive,
      openedAt: open ? this.openedAt : undefined,
      nextAttemptAt: state === 'open' ? this.nextAttemptAt : undefined,
      totals: { ...this.counters },
    };
  }

  private async executeWithFallback<T>(
    fn: PolicyFn<T>,
    context: PolicyContext,
    fallback: (error: unknown) => T | PromiseLike<T>,
  ): Promise<T> {
    try {
      return await this.run(fn, context);
    } catch (error) {
      if (!this.fallsBack(error)) throw error;
      this.counters.fallbacks++;
      return await fallback(error);
    }
  }

  private async settle<T>(
    pending: PromiseLike<T> | T,
    timed: boolean,
    start: number,
    probe: boolean,
    generation: number,
    signal: AbortSignal,
  ): Promise<T> {
    let value: T;
    try {
      value = await pending;
    } catch (error) {
      this.onError(error, start, probe, generation, signal);
      throw error;
    }
    this.onSuccess(timed, start, probe, generation);
    return value;
  }

  /** Admits or rejects a call; returns true when the call is a half-open probe. */
  private admit(now: number): boolean {
    switch (this.current) {
      case 'closed':
        return false;
      case 'open':
        if (now < this.nextAttemptAt) throw this.reject(this.nextAttemptAt - now);
        this.transition('half-open');
        break;
      case 'isolated':
        throw this.reject(0);
      case 'half-open':
        break;
    }
    if (this.probesAdmitted >= this.maxProbes) throw this.reject(0);
    this.probesAdmitted++;
    return true;
  }

  private reject(retryAfterMs: number): CircuitOpenError {
    this.counters.rejections++;
    const state = this.current;
    if (this.events.has('reject')) this.events.emit('reject', { name: this.name, state, retryAfterMs });
    addSpanEvent('circuit_breaker.rejected', {
      'circuit_breaker.name': this.name,
      'circuit_breaker.state': state,
      'circuit_breaker.retry_after_ms': retryAfterMs,
    });
    return new CircuitOpenError(this.name, retryAfterMs, state === 'isolated');
  }

  private onSuccess(timed: boolean, start: number, probe: boolean, generation: number): void {
    const end = timed ? this.now() : this.window.usesClock ? this.now() : 0;
    const durationMs = timed ? end - start : 0;
    const slow = this.slowMs > 0 && durationMs >= this.slowMs;
    this.counters.successes++;
    if (this.events.has('success')) this.events.emit('success', { name: this.name, durationMs, slow });
    if (generation !== this.generation) return;
    if (probe) {
      if (slow) {
        this.transition('open');
      } else if (++this.probeSuccesses >= this.maxProbes) {
        this.transition('closed');
      }
      return;
    }
    this.consecutive = 0;
    this.window.record(false, slow, end);
    if (slow) this.evaluate(end);
  }

  private onError(error: unknown, start: number, probe: boolean, generation: number, signal: AbortSignal): void {
    const end = this.now();
    const timedOut = isResilienceError(error) && error.code === 'TIMEOUT';
    if (!timedOut && signal.aborted) {
      // The caller gave up: says nothing about the dependency's health.
      if (probe) this.releaseProbe(generation);
      return;
    }
    if (!timedOut && this.isFailure && !this.isFailure(error)) {
      this.onSuccess(start !== 0, start, probe, generation);
      return;
    }
    const durationMs = start === 0 ? 0 : end - start;
    const slow = this.slowMs > 0 && durationMs >= this.slowMs;
    this.counters.failures++;
    if (timedOut) {
      this.counters.timeouts++;
      if (this.events.has('timeout')) this.events.emit('timeout', { name: this.name, timeoutMs: this.timeoutMs });
    }
    if (this.events.has('failure')) this.events.emit('failure', { name: this.name, durationMs, error, slow });
    if (generation !== this.generation) return;
    if (probe) {
      this.transition('open');
      return;
    }
    this.consecutive++;
    this.window.record(true, slow, end);
    this.evaluate(end);
  }

  private evaluate(now: number): void {
    if (this.current !== 'closed') return;
    if (this.consecutiveLimit > 0 && this.consecutive >= this.consecutiveLimit) {
      this.transition('open');
      return;
    }
    const { total, failures, slow } = this.window.totals(now);
    if (total < this.minimumThroughput) return;
    if (failures / total >= this.failureThreshold || (this.slowMs > 0 && slow / total >= this.slowRate)) {
      this.transition('open');
    }
  }

  private releaseProbe(generation: number): void {
    if (generation === this.generation && this.probesAdmitted > 0) this.probesAdmitted--;
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.generation++;
    this.probesAdmitted = 0;
    this.probeSuccesses = 0;
    if (to === 'open') {
      this.openedAt = this.now();
      this.nextAttemptAt = this.openedAt + this.resetTimeoutMs;
    }
    if (to === 'closed') {
      this.window.reset();
      this.consecutive = 0;
    }
    if (this.events.has('stateChange')) this.events.emit('stateChange', { name: this.name, from, to });
    // On the span of the call that moved the breaker (or of whoever called open(), close(), isolate()).
    addSpanEvent('circuit_breaker.state_change', {
      'circuit_breaker.name': this.name,
      'circuit_breaker.from': from,
      'circuit_breaker.to': to,
    });
  }

  private fallsBack(error: unknown): boolean {
    if (!isResilienceError(error)) return this.isFailure ? this.isFailure(error) : true;
    return error.code === 'CIRCUIT_OPEN' || error.code === 'TIMEOUT' || (this.isFailure?.(error) ?? true);
  }
}

/**
 * A duration in ms given under its name or its documented alias (`resetTimeout` for
 * `resetTimeoutMs`); both at once must agree. A bad value is reported under the name it was given.
 */
function msOption(
  name: string,
  value: number | undefined,
  alias: string,
  aliasValue: number | undefined,
  fallback: number,
): number {
  if (value !== undefined && aliasValue !== undefined && value !== aliasValue) {
    throw new InvalidOptionError(
      alias,
      aliasValue,
      `the same value as "${name}" (${String(value)}), or only one of them`,
    );
  }
  if (value !== undefined) return check.nonNegative(name, value);
  if (aliasValue !== undefined) return check.nonNegative(alias, aliasValue);
  return fallback;
}
