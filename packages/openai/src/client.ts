import type { CircuitBreaker, CircuitBreakerStats } from '@infra/resilience';
import OpenAI, { type ClientOptions } from 'openai';
import type { APIPromise } from 'openai/core/api-promise';
import type { Completion, CompletionCreateParamsNonStreaming } from 'openai/resources/completions';
import { statusFor } from './classify.js';
import { InvalidConfigError, InvalidOptionError, check, type OpenAIClientError } from './errors.js';
import type { OpenAIClientEvents } from './events.js';
import { Guard, type FallbackRoute } from './guard.js';
import { logOpenAIEvents } from './log-events.js';
import { createHealthCheck, type HealthCheckResult } from './health.js';
import { resolveOptions, type OpenAIClientOptions } from './options.js';
import { PriceTable } from './pricing.js';
import { TokenBudgetLimiter } from './rate-limit/limiter.js';
import { describeRequest, type OutgoingRequest } from './request-info.js';
import { ResponseCache } from './response-cache.js';
import { startGenAiSpan } from './telemetry.js';
import { INFRA_ERROR_TYPE } from './to-client-error.js';

/** The SDK's per-request options (the second argument of its `create` methods). */
export type SdkRequestOptions = NonNullable<Parameters<OpenAI['completions']['create']>[1]>;

/** Guards of the protected clients, so a client can route a fallback through another one. */
const guards = new WeakMap<object, Guard>();

/**
 * The official `OpenAI` client with every HTTP request run through a circuit breaker per model,
 * retries that honour `Retry-After`, a per-attempt timeout, an RPM/TPM limiter, fallbacks and an
 * optional response cache. The whole SDK surface (chat, responses, embeddings, streaming, …) keeps
 * its types. It plugs into the SDK through its public `fetch` option only: a failed call rejects
 * with the SDK's own error class for the status (`OpenAI.APIError` and its subclasses), whose
 * `code` is one of this package's codes (`CIRCUIT_OPEN`, `RATE_LIMITED`, …).
 */
export class ProtectedOpenAI extends OpenAI {
  readonly #guard: Guard;
  readonly #settings: OpenAIClientOptions;
  readonly #maxRetries: number;
  readonly #attemptTimeoutMs: number;
  readonly #limiter: TokenBudgetLimiter | undefined;
  readonly #health: () => Promise<HealthCheckResult>;
  #closing: Promise<void> | undefined;

  constructor(options: OpenAIClientOptions = {}) {
    const resolved = resolveOptions(options);
    const {
      maxRetries: _maxRetries,
      timeout: _timeout,
      timeoutMs: _timeoutMs,
      name: _name,
      retry: _retry,
      fetch: _fetch,
      breaker,
      rateLimit,
      fallbacks,
      cache,
      prices,
      health,
      logger,
      ...sdkOptions
    } = options;
    if (
      sdkOptions.apiKey === undefined &&
      !process.env.OPENAI_API_KEY &&
      !sdkOptions.workloadIdentity &&
      !sdkOptions.provider
    ) {
      throw new InvalidConfigError('apiKey', 'apiKey is required: pass it or set OPENAI_API_KEY');
    }
    let guarded: typeof globalThis.fetch = () => Promise.reject(new Error('client not constructed'));
    // The SDK must not retry on its own: the retries here see the breaker and the limiter. Its own
    // timer bounds the whole call (retries included); each attempt has the client's timeout.
    super({
      ...sdkOptions,
      // pino's methods take the SDK's `(message, ...rest)` as well as `(object, message)`.
      ...(logger === undefined ? {} : { logger: logger as unknown as ClientOptions['logger'] }),
      maxRetries: 0,
      timeout: resolved.callTimeoutMs,
      fetch: (input, init) => guarded(input, init),
    });
    guarded = (input, init) => this.#fetch(input, init);
    this.#settings = options;
    this.#maxRetries = resolved.maxRetries;
    this.#attemptTimeoutMs = resolved.timeoutMs;
    this.#limiter = rateLimit ? new TokenBudgetLimiter(rateLimit, resolved.name) : undefined;
    this.#guard = new Guard({
      name: resolved.name,
      baseURL: this.baseURL,
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      maxRetries: resolved.maxRetries,
      retry: resolved.retry,
      breaker: breaker ?? {},
      limiter: this.#limiter,
      cache: cache ? new ResponseCache(cache) : undefined,
      prices: new PriceTable(prices),
      secret: () => this.apiKey,
      scope: () => `${this.baseURL}|${this.organization ?? ''}|${this.project ?? ''}`,
    });
    guards.set(this, this.#guard);
    if (resolved.logger !== undefined) logOpenAIEvents(this.#guard.events, resolved.logger);
    this.#guard.fallbacks = (fallbacks ?? []).map((fallback, i) => this.#route(fallback, i));
    // The probe must not retry: it asks through a copy of this client without retries, made once.
    let probe: ProtectedOpenAI | undefined;
    this.#health = createHealthCheck(
      {
        models: {
          list: (requestOptions) => (probe ??= this.withOptions({ maxRetries: 0 })).models.list(requestOptions),
        },
        breakerStates: () => Object.fromEntries(this.#guard.breakerEntries().map(([m, b]) => [m, b.state])),
      },
      health,
    );
  }

  /** The documented call: a legacy completion through the same protection as every other call. */
  createCompletion(body: CompletionCreateParamsNonStreaming, options?: SdkRequestOptions): APIPromise<Completion> {
    return this.completions.create(body, options);
  }

  /** Per-attempt timeout in ms (the SDK's own `timeout` bounds the whole call). */
  get timeoutMs(): number {
    return this.#attemptTimeoutMs;
  }

  /** Subscribes to an event (see `OpenAIClientEvents`); returns a function that unsubscribes. */
  on<K extends keyof OpenAIClientEvents>(event: K, listener: (payload: OpenAIClientEvents[K]) => void): () => void {
    return this.#guard.events.on(event, listener);
  }

  /** Health of the OpenAI dependency, for `@infra/health`: a cached `models.list` probe. */
  healthCheck(): Promise<HealthCheckResult> {
    return this.#health();
  }

  /** The circuit breaker of `model` (created if needed), to read or force its state. */
  breaker(model?: string): CircuitBreaker {
    if (model !== undefined && (typeof model !== 'string' || model.length === 0)) {
      throw new InvalidOptionError('model', model, 'a non-empty string');
    }
    return this.#guard.breaker(model);
  }

  /** Stats of every breaker created so far, by model (`*` for calls without a model). */
  breakerStats(): Record<string, CircuitBreakerStats> {
    return Object.fromEntries(this.#guard.breakerEntries().map(([model, breaker]) => [model, breaker.stats()]));
  }

  /**
   * Releases what the client created (its own rate-limit store); idempotent. Injected stores stay
   * open. Calls in flight are not waited for: each is bounded by its own timeouts.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    const given = check.plainObject('options', options);
    if (given.timeoutMs !== undefined) check.nonNegative('timeoutMs', given.timeoutMs);
    this.#closing ??= this.#limiter?.close() ?? Promise.resolve();
    await this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  override withOptions(options: Partial<OpenAIClientOptions>): this {
    return new ProtectedOpenAI({ ...this.#settings, ...options }) as this;
  }

  /**
   * The `fetch` the SDK is given: every HTTP request of the SDK arrives here. Failures come back as
   * error responses that the SDK turns into its own error classes, with this package's code.
   */
  async #fetch(input: string | URL | Request, init: RequestInit | undefined): Promise<Response> {
    const given = init ?? {};
    // The SDK's signal: the caller's signal and the SDK's whole-call timer.
    const signal = given.signal ?? new AbortController().signal;
    const { signal: _signal, ...requestInit } = given;
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const request = describeRequest(href, requestInit, this.baseURL);
    // Ended where the call ends: with the answer, or when a stream finishes or is aborted.
    const span = startGenAiSpan(request, this.baseURL);
    try {
      const serve = () =>
        this.#guard.serve(request, requestInit, this.#attemptTimeoutMs, signal, this.#maxRetries, span);
      return (await (span ? span.run(serve) : serve())).response;
    } catch (error) {
      span?.end(error);
      // An aborted call rejects as fetch does, so the SDK throws its APIUserAbortError (caller's
      // signal) or APIConnectionTimeoutError (its own timer).
      if (signal.aborted) throw signal.reason;
      return errorResponse(this.#guard.normalize(error, signal, request));
    }
  }

  #route(fallback: unknown, index: number): FallbackRoute {
    const option = typeof fallback === 'string' ? { model: fallback } : fallback;
    const { model, client } = (option ?? {}) as { model?: unknown; client?: unknown };
    if (typeof model !== 'string' || model.length === 0) {
      throw new InvalidOptionError(`fallbacks[${index}]`, fallback, 'a model name or { model, client }');
    }
    if (client === undefined || client === this) return { model, guard: this.#guard };
    const guard = typeof client === 'object' && client !== null ? guards.get(client) : undefined;
    if (!guard || !(client instanceof ProtectedOpenAI)) {
      throw new InvalidOptionError(`fallbacks[${index}].client`, client, 'a client made by createOpenAIClient');
    }
    return { model, guard, prepare: (request, init) => this.#rebase(client, request, init) };
  }

  /** The same request addressed to another client: its base URL and its credentials. */
  #rebase(
    other: ProtectedOpenAI,
    request: OutgoingRequest,
    init: RequestInit,
  ): { request: OutgoingRequest; init: RequestInit } {
    const base = this.baseURL.replace(/\/+$/, '');
    const path = request.url.startsWith(base) ? request.url.slice(base.length) : new URL(request.url).pathname;
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${other.apiKey ?? ''}`);
    for (const [name, value] of [
      ['openai-organization', other.organization],
      ['openai-project', other.project],
    ] as const) {
      if (value) headers.set(name, value);
      else headers.delete(name);
    }
    return { request: { ...request, url: other.baseURL.replace(/\/+$/, '') + path }, init: { ...init, headers } };
  }
}

/**
 * An error response the SDK will not retry. Its body is OpenAI's error shape, so that the SDK's
 * error carries the code (`error.code`) and the details (`error.error`).
 */
function errorResponse(error: OpenAIClientError): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-should-retry': 'false' };
  if (error.requestId) headers['x-request-id'] = error.requestId;
  const body = JSON.stringify({
    error: {
      message: error.message,
      type: INFRA_ERROR_TYPE,
      code: error.code,
      param: error.param ?? null,
      is_retryable: error.isRetryable,
      status: error.status ?? null,
      retry_after_ms: error.retryAfterMs ?? null,
      model: error.model ?? null,
      endpoint: error.endpoint ?? null,
      upstream_code: error.upstreamCode ?? null,
      upstream_type: error.upstreamType ?? null,
    },
  });
  return new Response(body, { status: statusFor(error), headers });
}

/**
 * Creates a protected OpenAI client (the documented `createOpenAIClient`). Accepts the SDK's options,
 * an `OpenAIConfig` from `configFactory`, and the protection options of {@link OpenAIClientOptions}.
 */
export function createOpenAIClient(options: OpenAIClientOptions = {}): ProtectedOpenAI {
  return new ProtectedOpenAI(options);
}
