import type { CircuitState } from '@infra/resilience';
import type { ErrorCode } from './errors.js';

/**
 * Events of a protected client, subscribed with `client.on(name, listener)` (which returns an
 * unsubscribe function). `@infra/monitoring`'s `openaiMonitor` relies on these names and fields.
 * No payload ever holds the API key, a prompt or a completion.
 */
export interface OpenAIClientEvents {
  /** An HTTP request is about to be sent (once per attempt, after the rate limiter let it go). */
  request: { model: string | undefined; endpoint: string; attempt: number };
  /** A call succeeded; tokens from the response's `usage` (or estimated, see `estimated`). */
  usage: {
    /** The model that served the call (a fallback's, when one served it). */
    model: string;
    endpoint: string;
    promptTokens: number;
    completionTokens: number;
    totalTokens: number;
    /** From the start of the call to the full body (the end of the stream for a stream), retries included. */
    latencyMs: number;
    /** Estimated cost in USD from the price table; 0 for a model the table does not know. */
    costUsd: number;
    /** True when the response carried no `usage` (a stream without `include_usage`): tokens are estimates. */
    estimated: boolean;
    /** True when a fallback served the call instead of the requested model. */
    fallback: boolean;
  };
  /** A call failed for good (after retries and fallbacks), or a stream failed mid-way. Once per call. */
  error: {
    code: ErrorCode;
    status?: number;
    model: string | undefined;
    endpoint: string;
    latencyMs: number;
    message: string;
  };
  /** An attempt failed and another follows after `delayMs`. */
  retry: {
    model: string | undefined;
    endpoint: string;
    attempt: number;
    delayMs: number;
    code: ErrorCode | undefined;
    status?: number;
  };
  /** A model's circuit breaker changed state. */
  breakerStateChange: { name: string; model: string; from: CircuitState; to: CircuitState };
  /** The client-side limiter held a call back; `waiting` is false when the call failed with `RATE_LIMITED`. */
  rateLimited: {
    model: string | undefined;
    endpoint: string;
    scope: 'requests' | 'tokens';
    retryAfterMs: number;
    waiting: boolean;
  };
  /** A fallback is tried after the previous model failed or was refused by its breaker. */
  fallback: { endpoint: string; from: string | undefined; to: string; code: ErrorCode };
  /** A deterministic request was answered from the response cache. */
  cacheHit: { model: string | undefined; endpoint: string };
  /** The rate-limit store or the response cache failed; the call went on without it. */
  storeError: { store: 'rateLimit' | 'cache'; message: string };
}

export type OpenAIClientEventName = keyof OpenAIClientEvents;
