import type { Logger } from '@infra/core';
import type { CircuitBreakerOptions, Jitter } from '@infra/resilience';
import type { ClientOptions } from 'openai';
import { InvalidOptionError, check } from './errors.js';
import type { HealthCheckOptions } from './health.js';
import type { ModelPrice } from './pricing.js';
import type { RateLimitOptions } from './rate-limit/limiter.js';
import type { ResponseCacheOptions } from './response-cache.js';
import type { RetrySettings } from './guard.js';

export interface RetryOptions {
  /** Base delay of the exponential backoff, in ms. @default 500 */
  initialDelayMs?: number;
  /** Upper bound of a computed backoff delay, in ms. @default 8_000 */
  maxDelayMs?: number;
  /** Jitter of the backoff (see `@infra/resilience` `retry`). @default 'full' */
  jitter?: Jitter;
  /**
   * A `Retry-After` / `retry-after-ms` longer than this (ms) is not waited for: the call fails (or
   * falls back) at once instead of holding the caller.
   * @default 60_000
   */
  maxRetryAfterMs?: number;
}

/** Circuit-breaker settings (one breaker per model). See `@infra/resilience` `CircuitBreaker`. */
export type BreakerOptions = Omit<CircuitBreakerOptions, 'isFailure' | 'timeout'>;

export interface FallbackOption {
  /** Model to ask instead. */
  model: string;
  /**
   * Client to ask it from, made by `createOpenAIClient` (e.g. another region or provider).
   * @default this client
   */
  client?: object;
}

/**
 * Options of `createOpenAIClient`: every option of the `openai` SDK's `ClientOptions` (apiKey,
 * organization, project, baseURL, defaultHeaders, logger, …) plus the protection below.
 */
export interface OpenAIClientOptions extends Omit<ClientOptions, 'maxRetries' | 'timeout' | 'fetch' | 'logger'> {
  /**
   * Logs what the protection does (retries and fallbacks at `warn`, a breaker opening at `warn` and
   * recovering at `info`, a call failed for good at `error`), e.g. a pino logger. It is also the
   * SDK's own `logger`, whose `(message, ...rest)` lines pino takes as they are (hence the SDK's
   * logger type is accepted too).
   * @default undefined (nothing is logged by this package; the SDK logs to the console)
   */
  logger?: Logger | ClientOptions['logger'];
  /**
   * Retries after the first attempt, done by this package around the breaker and the limiter (the
   * SDK's own retries are off, so a request's `maxRetries` option has no effect: use
   * `client.withOptions({ maxRetries })` for calls that need another number).
   * @default 2
   */
  maxRetries?: number;
  /**
   * Per-attempt timeout in ms: until the whole body, or for a stream until its headers and then
   * between two chunks.
   * @default 60_000
   */
  timeoutMs?: number;
  /**
   * The documented spelling of {@link OpenAIClientOptions.timeoutMs} (also in ms); `timeoutMs`
   * wins when both are set. A request's own `timeout` option (the SDK's) bounds that whole call,
   * retries included.
   */
  timeout?: number;
  /** The fetch that sends requests. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Names this client in breaker names and the default rate-limit budget key. @default 'openai' */
  name?: string;
  /** Backoff of the retries. */
  retry?: RetryOptions;
  /**
   * Circuit breaker per model. Only outages count as failures: 5xx, 408, 409, timeouts, broken
   * connections and streams. 429 and other 4xx do not.
   * @default { failureThreshold: 0.5, minimumThroughput: 10, resetTimeout: 30_000 }
   */
  breaker?: BreakerOptions;
  /** Client-side requests/tokens per minute limiter. Off when unset. */
  rateLimit?: RateLimitOptions;
  /**
   * Models (or other clients) tried in order when the requested model's breaker is open or it
   * failed with a retryable error after its retries. A string is a model on this client.
   * @default []
   */
  fallbacks?: (string | FallbackOption)[];
  /** Response cache for deterministic requests (`temperature: 0`, no stream). Off when unset. */
  cache?: ResponseCacheOptions;
  /** Prices (USD per 1M tokens) that override or extend the built-in table for `costUsd`. */
  prices?: Record<string, ModelPrice>;
  /** Settings of `client.healthCheck()`. */
  health?: HealthCheckOptions;
}

export interface ResolvedOptions {
  maxRetries: number;
  /** Per attempt. */
  timeoutMs: number;
  /** The SDK's own timer, a backstop over the whole call: every attempt, backoff and wait. */
  callTimeoutMs: number;
  name: string;
  retry: RetrySettings;
  logger: Logger | undefined;
}

export function resolveOptions(options: OpenAIClientOptions): ResolvedOptions {
  if (typeof (options as unknown) !== 'object' || (options as unknown) === null)
    throw new InvalidOptionError('options', options, 'an object');
  const retry = options.retry ?? {};
  const jitter: unknown = retry.jitter ?? 'full';
  if (jitter !== 'full' && jitter !== 'decorrelated' && jitter !== 'none') {
    throw new InvalidOptionError('retry.jitter', jitter, '"full", "decorrelated" or "none"');
  }
  const name: unknown = options.name ?? 'openai';
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('name', name, 'a non-empty string');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new InvalidOptionError('fetch', options.fetch, 'a fetch function');
  }
  if (options.fallbacks !== undefined && !Array.isArray(options.fallbacks)) {
    throw new InvalidOptionError('fallbacks', options.fallbacks, 'an array of models or { model, client }');
  }
  const maxRetries = check.integer('maxRetries', options.maxRetries ?? 2, 0);
  const timeoutMs =
    options.timeoutMs === undefined
      ? check.integer('timeout', options.timeout ?? 60_000, 1)
      : check.integer('timeoutMs', options.timeoutMs, 1);
  const settings: RetrySettings = {
    initialDelayMs: check.nonNegative('retry.initialDelayMs', retry.initialDelayMs ?? 500),
    maxDelayMs: check.nonNegative('retry.maxDelayMs', retry.maxDelayMs ?? 8_000),
    jitter,
    maxRetryAfterMs: check.positive('retry.maxRetryAfterMs', retry.maxRetryAfterMs ?? 60_000),
  };
  const maxWaitMs = typeof options.rateLimit?.maxWaitMs === 'number' ? options.rateLimit.maxWaitMs : 30_000;
  const callTimeoutMs =
    (maxRetries + 1) * (timeoutMs + maxWaitMs) + maxRetries * Math.max(settings.maxDelayMs, settings.maxRetryAfterMs);
  // A timer longer than 2^31 - 1 ms fires at once.
  const logger = check.optionalLogger('logger', options.logger);
  return {
    maxRetries,
    timeoutMs,
    callTimeoutMs: Math.min(callTimeoutMs, 2_147_483_647),
    name,
    retry: settings,
    logger,
  };
}
