import type { CircuitBreaker, CircuitBreakerStats } from '@infra/resilience';
import OpenAI, { type APIError } from 'openai';
import type { APIPromise } from 'openai/core/api-promise';
import type { Completion, CompletionCreateParamsNonStreaming } from 'openai/resources/completions';
import { statusFor } from './classify.js';
import { InvalidConfigError, InvalidOptionError, OpenAIClientError } from './errors.js';
import type { OpenAIClientEvents } from './events.js';
import { Guard, type FallbackRoute } from './guard.js';
import { createHealthCheck, type HealthCheckResult } from './health.js';
import { resolveOptions, type OpenAIClientOptions } from './options.js';
import { PriceTable } from './pricing.js';
import { TokenBudgetLimiter } from './rate-limit/limiter.js';
import { copyInit, describeRequest, type OutgoingRequest } from './request-info.js';
import { ResponseCache } from './response-cache.js';
import { NEVER_ABORTED } from './signals.js';

type SdkRequestOptions = NonNullable<Parameters<OpenAI['completions']['create']>[1]>;
type SdkFetchUrl = Parameters<OpenAI['fetchWithTimeout']>[0];
type SdkRequestInit = Parameters<OpenAI['fetchWithTimeout']>[1];
type SdkPrepareContext = Parameters<OpenAI['prepareRequest']>[1];

/**
 * What prepareRequest learns about a call for fetchWithTimeout, kept on the RequestInit the SDK hands from one to the
 * other.
 */
const CALL = Symbol('infra.openai.call');
interface CallSettings {
  maxRetries: number | undefined;
  params: object | undefined;
}

/** Guards of the protected clients, so a client can route a fallback through another one. */
const guards = new WeakMap<object, Guard>();

/**
 * The official `OpenAI` client with every HTTP request run through a circuit breaker per model,
 * retries that honour `Retry-After`, a per-attempt timeout, an RPM/TPM limiter, fallbacks and an
 * optional response cache. The whole SDK surface (chat, responses, embeddings, streaming, …) keeps
 * its types; failures reject with `OpenAIClientError` (coded) instead of the SDK's error classes.
 */
export class ProtectedOpenAI extends OpenAI {
  readonly #guard: Guard;
  readonly #settings: OpenAIClientOptions;
  readonly #maxRetries: number;
  readonly #limiter: TokenBudgetLimiter | undefined;
  readonly #statusErrors = new WeakMap<Headers, OpenAIClientError>();
  readonly #health: () => Promise<HealthCheckResult>;
  #closing: Promise<void> | undefined;

  constructor(options: OpenAIClientOptions = {}) {
    const resolved = resolveOptions(options);
    const {
      maxRetries: _maxRetries,
      timeout: _timeout,
      name: _name,
      retry: _retry,
      breaker,
      rateLimit,
      fallbacks,
      cache,
      prices,
      health,
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
    // The SDK must not retry on its own: the retries here see the breaker and the limiter.
    super({ ...sdkOptions, maxRetries: 0, timeout: resolved.timeout });
    this.#settings = options;
    this.#maxRetries = resolved.maxRetries;
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
    this.#guard.fallbacks = (fallbacks ?? []).map((fallback, i) => this.#route(fallback, i));
    this.#health = createHealthCheck(
      {
        models: this.models,
        breakerStates: () => Object.fromEntries(this.#guard.breakerEntries().map(([m, b]) => [m, b.state])),
      },
      health,
    );
  }

  /** The seed's call: a legacy completion through the same protection as every other call. */
  createCompletion(body: CompletionCreateParamsNonStreaming, options?: SdkRequestOptions): APIPromise<Completion> {
    return this.completions.create(body, options);
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

  /** Releases what the client created (its own rate-limit store); idempotent. Injected stores stay open. */
  close(): Promise<void> {
    this.#closing ??= this.#limiter?.close() ?? Promise.resolve();
    return this.#closing;
  }

  override withOptions(options: Partial<OpenAIClientOptions>): this {
    return new ProtectedOpenAI({ ...this.#settings, ...options }) as this;
  }

  /** Every HTTP request of the SDK arrives here; failures become error responses the SDK throws as they are. */
  override async fetchWithTimeout(
    url: SdkFetchUrl,
    init: SdkRequestInit,
    ms: number,
    controller: AbortController,
  ): Promise<Response> {
    const given = (init ?? {}) as SdkRequestInit & { [CALL]?: CallSettings };
    const caller = given.signal ?? undefined;
    const method = (given.method ?? 'GET').toUpperCase();
    const body = given.body as unknown;
    const streamingBody =
      typeof body === 'object' && body !== null && (body instanceof ReadableStream || Symbol.asyncIterator in body);
    // A copy without the caller's signal (each attempt sends its own) and without this client's symbol.
    const requestInit = copyInit(given, 'signal');
    requestInit.method = method;
    if (streamingBody) requestInit.duplex = 'half';
    const href = typeof url === 'string' ? url : url instanceof URL ? url.href : url.url;
    const call = given[CALL];
    const request = describeRequest(href, requestInit, this.baseURL, call?.params);
    const maxRetries = call?.maxRetries ?? this.#maxRetries;
    // Only a stream hands the SDK's controller to the caller (`stream.controller.abort()`): link it
    // then. Otherwise its signal is never created, which saves the costliest allocation of a call.
    let signal = caller ?? NEVER_ABORTED;
    let detach = (): void => undefined;
    if (request.stream) {
      signal = controller.signal;
      if (caller) {
        const onAbort = (): void => {
          controller.abort(caller.reason);
        };
        if (caller.aborted) controller.abort(caller.reason);
        else caller.addEventListener('abort', onAbort, { once: true });
        detach = () => {
          caller.removeEventListener('abort', onAbort);
        };
      }
    }
    try {
      const served = await this.#guard.serve(request, requestInit, ms, signal, maxRetries);
      if (served.streamEnd) void served.streamEnd.finally(detach);
      else detach();
      return served.response;
    } catch (error) {
      detach();
      return this.#errorResponse(this.#guard.normalize(error, signal, request));
    }
  }

  protected override async prepareRequest(request: RequestInit, context: SdkPrepareContext): Promise<void> {
    await super.prepareRequest(request, context);
    const signal = context.options.signal;
    // The SDK would throw its own APIUserAbortError next; callers get the coded error instead.
    if (signal?.aborted) {
      throw new OpenAIClientError('ABORTED', `OpenAI call to ${context.url} was aborted by the caller`, {
        cause: signal.reason,
      });
    }
    const { maxRetries, body } = context.options;
    // A JSON body is the plain params object: keep it rather than parse the string again.
    const params =
      typeof request.body === 'string' &&
      typeof body === 'object' &&
      body !== null &&
      Object.getPrototypeOf(body) === Object.prototype
        ? body
        : undefined;
    if (typeof maxRetries === 'number' || params !== undefined) {
      (request as { [CALL]?: CallSettings })[CALL] = {
        maxRetries: typeof maxRetries === 'number' ? maxRetries : undefined,
        params,
      };
    }
  }

  protected override makeStatusError(
    status: number,
    error: object,
    message: string | undefined,
    headers: Headers,
  ): APIError {
    const coded = this.#statusErrors.get(headers);
    // The SDK throws what this returns: the coded error itself reaches the caller.
    if (coded) return coded as unknown as APIError;
    return super.makeStatusError(status, error, message, headers);
  }

  /** An error response the SDK will not retry, carrying the coded error to `makeStatusError`. */
  #errorResponse(error: OpenAIClientError): Response {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-should-retry': 'false' };
    if (error.requestId) headers['x-request-id'] = error.requestId;
    const body = JSON.stringify({ error: { message: error.message, type: 'infra_openai_error', code: error.code } });
    const response = new Response(body, { status: statusFor(error), headers });
    this.#statusErrors.set(response.headers, error);
    return response;
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
 * Creates a protected OpenAI client (the seed's `createOpenAIClient`). Accepts the SDK's options,
 * an `OpenAIConfig` from `configFactory`, and the protection options of {@link OpenAIClientOptions}.
 */
export function createOpenAIClient(options: OpenAIClientOptions = {}): ProtectedOpenAI {
  return new ProtectedOpenAI(options);
}
