import { abortError, abortReason, check, isResilienceError } from './errors.js';
import { EventHub, addSpanEvent, errorTypeOf, type Logger } from '@infra/core';
import { contextFor, type ExecuteOptions, type Policy, type PolicyContext, type PolicyFn } from './policy.js';
import { retryAfterMs } from './retry-after.js';
import { sleep } from '@infra/core';

export type Jitter = 'full' | 'decorrelated' | 'none';

export interface RetryOptions {
  /** Attempts in all, the first included. @default 3 */
  maxAttempts?: number;
  /** Gives up instead of waiting past this many ms since the first attempt. @default Infinity */
  maxElapsedMs?: number;
  /** Base delay before the first retry (ms). @default 100 */
  initialDelayMs?: number;
  /** Upper bound of a computed backoff delay (ms). @default 30_000 */
  maxDelayMs?: number;
  /** Growth factor of the exponential backoff. @default 2 */
  factor?: number;
  /**
   * `full`: uniform in [0, exponential delay]; `decorrelated`: uniform in
   * [initialDelay, 3 × previous delay]; `none`: the exponential delay itself.
   * @default 'full'
   */
  jitter?: Jitter;
  /**
   * Decides whether to retry after `error` on 1-based `attempt`. By default every error is retried
   * except those marked `isRetryable: false`, caller aborts, and refusals of a circuit breaker or
   * bulkhead (retrying them only adds load).
   */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /**
   * Waits as long as the error asks (`retryAfterMs`, `Retry-After`, `retry-after-ms`) instead of
   * the computed backoff. @default true
   */
  respectRetryAfter?: boolean;
  /** Random source in [0, 1), for tests. @default Math.random */
  random?: () => number;
  /**
   * Logs each retry (`debug`) and each give-up (`warn`) with the error, e.g. a pino logger.
   * @default undefined (nothing is logged; the events still fire)
   */
  logger?: Logger;
}

export interface RetryEvents {
  retry: { attempt: number; delayMs: number; error: unknown };
  giveUp: { attempts: number; error: unknown };
  success: { attempts: number };
}

export function defaultShouldRetry(error: unknown): boolean {
  if (isResilienceError(error)) {
    return error.isRetryable && error.code !== 'CIRCUIT_OPEN' && error.code !== 'BULKHEAD_FULL';
  }
  return (error as { isRetryable?: unknown } | null)?.isRetryable !== false;
}

/** Runs a function again after failures, with exponential backoff and jitter. */
export class RetryPolicy implements Policy {
  private readonly events = new EventHub<RetryEvents>();
  private readonly maxAttempts: number;
  private readonly maxElapsedMs: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly factor: number;
  private readonly jitter: Jitter;
  private readonly shouldRetry: (error: unknown, attempt: number) => boolean;
  private readonly respectRetryAfter: boolean;
  private readonly random: () => number;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = check.integer('maxAttempts', options.maxAttempts ?? 3);
    this.maxElapsedMs =
      options.maxElapsedMs === undefined || options.maxElapsedMs === Infinity
        ? Infinity
        : check.nonNegative('maxElapsedMs', options.maxElapsedMs);
    this.initialDelayMs = check.nonNegative('initialDelayMs', options.initialDelayMs ?? 100);
    this.maxDelayMs = check.nonNegative('maxDelayMs', options.maxDelayMs ?? 30_000);
    this.factor = check.positive('factor', options.factor ?? 2);
    this.jitter = check.oneOf('jitter', options.jitter ?? 'full', ['full', 'decorrelated', 'none']);
    this.shouldRetry = check.optionalFn('shouldRetry', options.shouldRetry) ?? defaultShouldRetry;
    this.respectRetryAfter = options.respectRetryAfter ?? true;
    this.random = check.optionalFn<() => number>('random', options.random) ?? Math.random;
    const logger = check.optionalLogger('logger', options.logger);
    if (logger !== undefined) {
      this.events.on('retry', ({ attempt, delayMs, error }) => {
        logger.debug({ attempt, delayMs, err: error }, `attempt ${attempt} failed; retrying in ${delayMs} ms`);
      });
      this.events.on('giveUp', ({ attempts, error }) => {
        logger.warn({ attempts, err: error }, `gave up after ${attempts} attempts`);
      });
    }
  }

  on<K extends keyof RetryEvents>(event: K, listener: (payload: RetryEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  onRetry(listener: (payload: RetryEvents['retry']) => void): () => void {
    return this.events.on('retry', listener);
  }

  onGiveUp(listener: (payload: RetryEvents['giveUp']) => void): () => void {
    return this.events.on('giveUp', listener);
  }

  execute<T>(fn: PolicyFn<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, contextFor(options));
  }

  async run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    const { signal } = context;
    const started = this.maxElapsedMs === Infinity ? 0 : Date.now();
    if (signal.aborted) throw abortError(signal);
    try {
      return await fn(context);
    } catch (error) {
      return await this.resume(fn, context, 1, error, started);
    }
  }

  /**
   * Runs the first attempt with `first`, which calls `onFailure` instead of rejecting when the
   * attempt fails (so that a pipeline can carry the whole call on one promise), and the later
   * attempts with `again`. Used by `wrap()`; same behaviour as {@link run}.
   * @internal
   */
  runFused<T>(
    context: PolicyContext,
    first: (context: PolicyContext, onFailure: (error: unknown) => Promise<T>) => Promise<T>,
    again: PolicyFn<T>,
  ): Promise<T> {
    const { signal } = context;
    if (signal.aborted) return Promise.reject(abortError(signal));
    const started = this.maxElapsedMs === Infinity ? 0 : Date.now();
    return first(context, (error) => this.resume(again, context, 1, error, started));
  }

  /** Carries on after attempt `attempt` failed with `error`: waits, tries again, or gives up. */
  private async resume<T>(
    fn: PolicyFn<T>,
    context: PolicyContext,
    attempt: number,
    error: unknown,
    started: number,
  ): Promise<T> {
    const { signal } = context;
    let previousDelay = this.initialDelayMs;
    let failure = error;
    for (let failed = attempt; ;) {
      if (signal.aborted || failed >= this.maxAttempts || !this.shouldRetry(failure, failed)) {
        this.giveUp(failed, failure);
      }
      const asked = this.respectRetryAfter ? retryAfterMs(failure) : undefined;
      const delayMs = asked ?? this.backoff(failed, previousDelay);
      previousDelay = Math.max(delayMs, this.initialDelayMs);
      if (this.maxElapsedMs !== Infinity && Date.now() - started + delayMs > this.maxElapsedMs) {
        this.giveUp(failed, failure);
      }
      if (this.events.has('retry')) this.events.emit('retry', { attempt: failed, delayMs, error: failure });
      addSpanEvent('retry', { 'retry.attempt': failed, 'retry.delay_ms': delayMs, 'error.type': errorTypeOf(failure) });
      await sleep(delayMs, signal, abortReason);
      const next = failed + 1;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal may abort while sleeping
      if (signal.aborted) throw abortError(signal);
      try {
        const value = await fn({ signal, attempt: next });
        if (this.events.has('success')) this.events.emit('success', { attempts: next });
        return value;
      } catch (retried) {
        failure = retried;
        failed = next;
      }
    }
  }

  /** Delay before retry number `attempt` (1-based), in ms. */
  backoff(attempt: number, previousDelay: number = this.initialDelayMs): number {
    if (this.jitter === 'decorrelated') {
      const upper = Math.min(this.maxDelayMs, previousDelay * 3);
      return Math.min(this.maxDelayMs, this.initialDelayMs + this.random() * Math.max(0, upper - this.initialDelayMs));
    }
    const exponential = Math.min(this.maxDelayMs, this.initialDelayMs * this.factor ** (attempt - 1));
    return this.jitter === 'full' ? this.random() * exponential : exponential;
  }

  private giveUp(attempts: number, error: unknown): never {
    if (this.events.has('giveUp')) this.events.emit('giveUp', { attempts, error });
    throw error;
  }
}

/** Creates a {@link RetryPolicy}. */
export function retry(options?: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
