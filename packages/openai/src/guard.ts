import { EventHub, type OpenSpan } from '@infra/core';
import { CircuitBreaker, RetryPolicy, type CircuitBreakerOptions, type Jitter } from '@infra/resilience';
import { sendAttempt, type AttemptResult } from './attempt.js';
import { abortedError, isBreakerFailure, normalizeError, type ErrorContext } from './classify.js';
import { OpenAIClientError, isOpenAIClientError } from './errors.js';
import type { OpenAIClientEvents } from './events.js';
import type { PriceTable } from './pricing.js';
import type { TokenBudgetLimiter, LimiterHooks, Reservation } from './rate-limit/limiter.js';
import { redact } from './redact.js';
import { withModel, type OutgoingRequest } from './request-info.js';
import type { ResponseCache } from './response-cache.js';
import { monitorStream, type StreamOutcome } from './stream-monitor.js';
import { recordResponse, responseInfoOf } from './telemetry.js';
import {
  encodingForModel,
  estimatePromptTokens,
  reservedCompletionTokens,
  tokenCounter,
  type TokenCount,
} from './tokens.js';
import type { Usage } from './usage.js';

export interface RetrySettings {
  initialDelayMs: number;
  maxDelayMs: number;
  jitter: Jitter;
  maxRetryAfterMs: number;
}

export interface GuardSettings {
  name: string;
  baseURL: string;
  fetch: typeof globalThis.fetch;
  maxRetries: number;
  retry: RetrySettings;
  breaker: Omit<CircuitBreakerOptions, 'isFailure' | 'timeout'>;
  limiter: TokenBudgetLimiter | undefined;
  cache: ResponseCache | undefined;
  prices: PriceTable;
  /** The API key in use, to scrub from every message. */
  secret: () => string | null | undefined;
  /** Account scope (base URL, organization, project) that separates cache entries. */
  scope: () => string;
}

/** Another model (on this client or another protected client) to try when the primary cannot serve. */
export interface FallbackRoute {
  model: string;
  guard: Guard;
  /** Rewrites URL and credentials for another client. */
  prepare?: (request: OutgoingRequest, init: RequestInit) => { request: OutgoingRequest; init: RequestInit };
}

/** The outcome of a call as the SDK will see it. */
interface Served {
  response: Response;
}

/**
 * Every HTTP request of a protected client runs through here: response cache, fallbacks, then per
 * model a retry policy around a circuit breaker around one attempt (rate limiter, timeout).
 */
export class Guard {
  readonly events: EventHub<OpenAIClientEvents> = new EventHub<OpenAIClientEvents>();
  readonly settings: GuardSettings;
  fallbacks: FallbackRoute[] = [];
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly policies = new Map<number, RetryPolicy>();
  /** Errors that must not be retried: a stream that already reached the caller, a body sent once. */
  private readonly final = new WeakSet<object>();
  /** Hooks of settlements, which belong to no one request. */
  private readonly settleHooks: RequestHooks = new RequestHooks(this, undefined);

  constructor(settings: GuardSettings) {
    this.settings = settings;
  }

  /** The breaker of a model (`*` for calls without a model), created on first use. */
  breaker(model: string | undefined): CircuitBreaker {
    const key = model ?? '*';
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = new CircuitBreaker(`${this.settings.name}:${key}`, {
        ...this.settings.breaker,
        isFailure: isBreakerFailure,
      });
      const name = breaker.name;
      breaker.on('stateChange', ({ from, to }) => {
        this.events.emit('breakerStateChange', { name, model: key, from, to });
      });
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  breakerEntries(): [string, CircuitBreaker][] {
    return [...this.breakers];
  }

  /** Runs a request with cache and fallbacks; failures come back as coded errors. */
  async serve(
    request: OutgoingRequest,
    init: RequestInit,
    timeoutMs: number,
    signal: AbortSignal,
    maxRetries: number,
    span?: OpenSpan,
  ): Promise<Served> {
    const started = Date.now();
    const cache = this.settings.cache;
    const cacheKey = cache?.cacheable(request) ? cache.key(request, this.settings.scope()) : undefined;
    if (cache && cacheKey) {
      const hit = await cache.get(cacheKey).catch((error: unknown) => {
        this.storeError('cache', error);
        return undefined;
      });
      if (hit) {
        this.events.emit('cacheHit', { model: request.model, endpoint: request.endpoint });
        span?.span?.setAttribute('openai.response_cache.hit', true);
        span?.end();
        return { response: hit };
      }
    }
    const routes: FallbackRoute[] = [{ model: request.model ?? '', guard: this }];
    if (request.model !== undefined && request.body) routes.push(...this.fallbacks);
    let first: OpenAIClientError | undefined;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i] as FallbackRoute;
      let routed = { request: i === 0 ? request : withModel(request, route.model), init };
      if (i > 0 && route.prepare) routed = route.prepare(routed.request, init);
      try {
        const served = await route.guard.protect(
          routed.request,
          routed.init,
          timeoutMs,
          signal,
          maxRetries,
          started,
          i > 0,
          span,
        );
        if (cacheKey && cache && served.text !== undefined) {
          cache
            .set(
              cacheKey,
              served.response.status,
              served.response.headers.get('content-type') ?? 'application/json',
              served.text,
            )
            .catch((error: unknown) => {
              this.storeError('cache', error);
            });
        }
        return served;
      } catch (error) {
        const coded = this.normalize(error, signal, routed.request);
        first ??= coded;
        const next = routes[i + 1];
        if (!next || signal.aborted || !(coded.code === 'CIRCUIT_OPEN' || coded.isRetryable)) {
          this.emitError(first, Date.now() - started);
          throw first;
        }
        this.events.emit('fallback', {
          endpoint: request.endpoint,
          from: routed.request.model,
          to: next.model,
          code: coded.code,
        });
      }
    }
    throw new OpenAIClientError('UPSTREAM', 'No route served the call'); // unreachable: the loop returns or throws
  }

  /** Retry around breaker around one attempt, for one model of this client. */
  async protect(
    request: OutgoingRequest,
    init: RequestInit,
    timeoutMs: number,
    signal: AbortSignal,
    maxRetries: number,
    started: number,
    fallback: boolean,
    span?: OpenSpan,
  ): Promise<Served & { text?: string }> {
    const breaker = this.breaker(request.model);
    const context: ErrorContext = { model: request.model, endpoint: request.endpoint, secret: this.settings.secret() };
    // A stream is handed to the caller as soon as it starts, while the attempt goes on until it
    // ends; any other call simply resolves with its attempt.
    let handOff: ((served: Served) => void) | undefined;
    const handedOff = request.stream
      ? new Promise<Served>((resolve) => {
          handOff = resolve;
        })
      : undefined;
    const limiter = this.settings.limiter?.enabled ? this.settings.limiter : undefined;
    const run = this.policy(maxRetries).execute(
      ({ attempt }) =>
        breaker.execute(
          async () => {
            const reservation = limiter ? await this.reserve(limiter, request, signal) : undefined;
            if (this.events.has('request'))
              this.events.emit('request', { model: request.model, endpoint: request.endpoint, attempt });
            let result: AttemptResult;
            try {
              result = await sendAttempt({ fetch: this.settings.fetch, request, init, timeoutMs, signal, context });
            } catch (error) {
              this.settle(reservation, 0);
              if (!request.replayable && typeof error === 'object' && error !== null) this.final.add(error);
              throw error;
            }
            if (result.kind === 'body') {
              this.settle(reservation, result.usage?.totalTokens);
              this.emitUsage(request, result.servedModel, result.usage, undefined, started, fallback);
              if (span?.span) recordResponse(span, { ...responseInfoOf(result.parsed), usage: result.usage });
              span?.end();
              return { response: result.response, text: result.text };
            }
            let ended: (outcome: StreamOutcome) => void = () => undefined;
            const outcome = new Promise<StreamOutcome>((resolve) => {
              ended = resolve;
            });
            const response = monitorStream(result.response, {
              context,
              callerSignal: signal,
              attempt: result.controller,
              idleTimeoutMs: timeoutMs,
              requireEndMarker: /^\/(chat\/completions|completions|responses)$/.test(request.endpoint),
              onEnd: ended,
              describe: span?.span !== undefined,
            });
            handOff?.({ response });
            const end = await outcome;
            result.release();
            if (end.kind === 'failed') {
              span?.end(end.error);
              this.settle(reservation, undefined);
              this.final.add(end.error);
              this.emitError(end.error, Date.now() - started);
              throw end.error;
            }
            if (end.kind === 'aborted') {
              this.settle(reservation, undefined);
              const aborted = abortedError(signal.reason, context);
              span?.end(aborted);
              throw aborted;
            }
            recordResponse(span, { ...end.info, usage: end.usage });
            span?.end();
            this.settle(reservation, end.usage?.totalTokens);
            this.emitUsage(request, undefined, end.usage, end.deltas, started, fallback);
            return { response };
          },
          { signal },
        ),
      { signal },
    );
    return handedOff ? Promise.race([handedOff, run]) : run;
  }

  private policy(maxRetries: number): RetryPolicy {
    let policy = this.policies.get(maxRetries);
    if (policy) return policy;
    const { initialDelayMs, maxDelayMs, jitter, maxRetryAfterMs } = this.settings.retry;
    policy = new RetryPolicy({
      maxAttempts: maxRetries + 1,
      initialDelayMs,
      maxDelayMs,
      jitter,
      shouldRetry: (error) =>
        isOpenAIClientError(error) &&
        error.isRetryable &&
        !this.final.has(error) &&
        // The local limiter already waited as long as it may.
        !(error.code === 'RATE_LIMITED' && error.status === undefined) &&
        (error.retryAfterMs ?? 0) <= maxRetryAfterMs,
    });
    policy.on('retry', ({ attempt, delayMs, error }) => {
      const coded = isOpenAIClientError(error) ? error : undefined;
      this.events.emit('retry', {
        model: coded?.model,
        endpoint: coded?.endpoint ?? '',
        attempt,
        delayMs,
        code: coded?.code,
        ...(coded?.status === undefined ? {} : { status: coded.status }),
      });
    });
    if (this.policies.size < 8) this.policies.set(maxRetries, policy);
    return policy;
  }

  private estimate(
    limiter: TokenBudgetLimiter,
    endpoint: string,
    body: Record<string, unknown>,
    count: TokenCount,
  ): number {
    return (
      estimatePromptTokens(endpoint, body, count) +
      reservedCompletionTokens(endpoint, body, limiter.defaultCompletionTokens)
    );
  }

  private async reserve(
    limiter: TokenBudgetLimiter,
    request: OutgoingRequest,
    signal: AbortSignal,
  ): Promise<Reservation> {
    let tokens = 0;
    if (limiter.tokens && request.body) {
      const count = await tokenCounter(encodingForModel(request.model));
      tokens = this.estimate(limiter, request.endpoint, request.body, count);
    }
    const hooks = new RequestHooks(this, request);
    try {
      return await limiter.acquire(tokens, signal, hooks);
    } catch (error) {
      if (isOpenAIClientError(error)) {
        throw new OpenAIClientError(error.code, error.message, {
          isRetryable: error.isRetryable,
          retryAfterMs: error.retryAfterMs,
          model: request.model,
          endpoint: request.endpoint,
          cause: error.cause,
        });
      }
      throw error;
    }
  }

  private settle(reservation: Reservation | undefined, used: number | undefined): void {
    const limiter = this.settings.limiter;
    if (reservation && limiter) limiter.settle(reservation, used, this.settleHooks);
  }

  private emitUsage(
    request: OutgoingRequest,
    servedModel: string | undefined,
    usage: Usage | undefined,
    streamedDeltas: number | undefined,
    started: number,
    fallback: boolean,
  ): void {
    // Calls that carry no usage at all (models, files) are not token usage.
    if (!this.events.has('usage') || (usage === undefined && streamedDeltas === undefined)) return;
    const model = servedModel ?? request.model ?? 'unknown';
    // Without usage (a stream without include_usage), each content delta is close to one token.
    const promptTokens = usage?.promptTokens ?? 0;
    const completionTokens = usage?.completionTokens ?? streamedDeltas ?? 0;
    this.events.emit('usage', {
      model,
      endpoint: request.endpoint,
      promptTokens,
      completionTokens,
      totalTokens: usage?.totalTokens ?? promptTokens + completionTokens,
      latencyMs: Date.now() - started,
      costUsd: this.settings.prices.cost(model, promptTokens, completionTokens),
      estimated: usage === undefined,
      fallback,
    });
  }

  private emitError(error: OpenAIClientError, latencyMs: number): void {
    this.events.emit('error', {
      code: error.code,
      ...(error.status === undefined ? {} : { status: error.status }),
      model: error.model,
      endpoint: error.endpoint ?? '',
      latencyMs,
      message: error.message,
    });
  }

  storeError(store: 'rateLimit' | 'cache', error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.events.emit('storeError', { store, message: redact(message, this.settings.secret()) });
  }

  /** Any failure as a coded error of this package. */
  normalize(error: unknown, signal: AbortSignal, request: OutgoingRequest): OpenAIClientError {
    return normalizeError(error, signal, request, this.settings.secret());
  }
}

/** What the limiter reports about one request, as events of its guard. */
class RequestHooks implements LimiterHooks {
  constructor(
    private readonly guard: Guard,
    private readonly request: OutgoingRequest | undefined,
  ) {}

  rateLimited({
    scope,
    retryAfterMs,
    waiting,
  }: {
    scope: 'requests' | 'tokens';
    retryAfterMs: number;
    waiting: boolean;
  }): void {
    this.guard.events.emit('rateLimited', {
      model: this.request?.model,
      endpoint: this.request?.endpoint ?? '',
      scope,
      retryAfterMs,
      waiting,
    });
  }

  storeError(error: unknown): void {
    this.guard.storeError('rateLimit', error);
  }
}
