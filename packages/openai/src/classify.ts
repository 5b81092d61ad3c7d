import { isResilienceError, retryAfterMs } from '@infra/resilience';
import { OpenAIClientError, isOpenAIClientError, type ErrorCode } from './errors.js';
import { redact } from './redact.js';

export interface ErrorContext {
  model: string | undefined;
  endpoint: string;
  /** The API key in use, to scrub from upstream messages. */
  secret: string | null | undefined;
}

interface UpstreamErrorBody {
  message?: unknown;
  type?: unknown;
  code?: unknown;
  param?: unknown;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

/**
 * Turns an error response of OpenAI into a coded error. 429 is `RATE_LIMITED` (retryable unless
 * the quota is exhausted), 408 `TIMEOUT`, 409 and 5xx `UPSTREAM`, 401/403 `AUTHENTICATION`, any
 * other 4xx `INVALID_REQUEST`.
 */
export function errorFromResponse(
  status: number,
  text: string,
  headers: Headers,
  context: ErrorContext,
): OpenAIClientError {
  let detail: UpstreamErrorBody = {};
  try {
    const parsed = JSON.parse(text) as { error?: UpstreamErrorBody } | null;
    if (parsed && typeof parsed.error === 'object') detail = parsed.error;
  } catch {
    // Not JSON (a proxy's HTML page): the status alone classifies it.
  }
  const upstreamCode = str(detail.code);
  let code: ErrorCode;
  let isRetryable: boolean;
  if (status === 401 || status === 403) [code, isRetryable] = ['AUTHENTICATION', false];
  else if (status === 408) [code, isRetryable] = ['TIMEOUT', true];
  else if (status === 429) [code, isRetryable] = ['RATE_LIMITED', upstreamCode !== 'insufficient_quota'];
  else if (status === 409 || status >= 500) [code, isRetryable] = ['UPSTREAM', true];
  else [code, isRetryable] = ['INVALID_REQUEST', false];

  const upstreamMessage = str(detail.message) ?? (text.length > 0 && text.length <= 200 ? text : undefined);
  const message = redact(
    `OpenAI answered ${status} to ${context.endpoint}${context.model ? ` (${context.model})` : ''}` +
      (upstreamMessage ? `: ${upstreamMessage}` : ''),
    context.secret,
  );
  return new OpenAIClientError(code, message, {
    isRetryable,
    status,
    requestId: headers.get('x-request-id') ?? undefined,
    retryAfterMs: retryAfterMs({ headers }),
    model: context.model,
    endpoint: context.endpoint,
    upstreamCode,
    upstreamType: str(detail.type),
    param: str(detail.param),
  });
}

/** A network failure before or while reading a response: retryable `UPSTREAM`. */
export function connectionError(
  cause: unknown,
  context: ErrorContext,
  what = 'Connection to OpenAI failed',
): OpenAIClientError {
  const reason = cause instanceof Error ? describeCause(cause) : String(cause);
  return new OpenAIClientError('UPSTREAM', redact(`${what} (${context.endpoint}): ${reason}`, context.secret), {
    isRetryable: true,
    model: context.model,
    endpoint: context.endpoint,
    cause: cause instanceof Error ? scrubbed(cause, context.secret) : undefined,
  });
}

/** undici reports "fetch failed" and puts the reason (ECONNREFUSED, socket closed…) in `cause`. */
function describeCause(error: Error): string {
  const inner = error.cause;
  if (inner instanceof Error && inner.message && inner.message !== error.message)
    return `${error.message}: ${inner.message}`;
  return error.message;
}

/** A copy of a low-level error whose message cannot leak the key (undici never puts it there; a custom fetch might). */
function scrubbed(error: Error, secret: string | null | undefined): Error {
  const message = redact(error.message, secret);
  if (message === error.message) return error;
  const copy = new Error(message);
  copy.name = error.name;
  return copy;
}

export function timeoutError(timeoutMs: number, context: ErrorContext, phase: string): OpenAIClientError {
  return new OpenAIClientError('TIMEOUT', `OpenAI ${phase} on ${context.endpoint} timed out after ${timeoutMs} ms`, {
    isRetryable: true,
    model: context.model,
    endpoint: context.endpoint,
  });
}

export function abortedError(reason: unknown, context: ErrorContext): OpenAIClientError {
  return new OpenAIClientError('ABORTED', `OpenAI call to ${context.endpoint} was aborted by the caller`, {
    model: context.model,
    endpoint: context.endpoint,
    cause: reason,
  });
}

/** Only outages count against a breaker: 5xx, 408/409, timeouts, broken connections and bodies. */
export function isBreakerFailure(error: unknown): boolean {
  return isOpenAIClientError(error) && (error.code === 'UPSTREAM' || error.code === 'TIMEOUT');
}

/** Upstream status to answer the SDK with for a locally raised error, so it throws at once. */
export function statusFor(error: OpenAIClientError): number {
  // Only a real error status: a 200 with a malformed body must not reach the SDK as a success.
  if (error.status !== undefined && error.status >= 400) return error.status;
  switch (error.code) {
    case 'CIRCUIT_OPEN':
      return 503;
    case 'RATE_LIMITED':
      return 429;
    case 'TIMEOUT':
      return 408;
    case 'ABORTED':
      return 499;
    case 'AUTHENTICATION':
      return 401;
    case 'INVALID_REQUEST':
    case 'INVALID_OPTION':
    case 'INVALID_CONFIG':
      return 400;
    default:
      return 502;
  }
}

/** Any failure of a call (breaker refusal, limiter, abort, coded or not) as a coded error. */
export function normalizeError(
  error: unknown,
  signal: AbortSignal,
  request: { model: string | undefined; endpoint: string },
  secret: string | null | undefined,
): OpenAIClientError {
  const context = { model: request.model, endpoint: request.endpoint, secret };
  if (isOpenAIClientError(error) && error.code !== 'ABORTED') return error;
  if (signal.aborted) return abortedError(signal.reason, context);
  if (isResilienceError(error, 'CIRCUIT_OPEN')) {
    return new OpenAIClientError('CIRCUIT_OPEN', `${error.message} (${request.endpoint})`, {
      isRetryable: error.isRetryable,
      retryAfterMs: (error as { retryAfterMs?: number }).retryAfterMs,
      model: request.model,
      endpoint: request.endpoint,
      cause: error,
    });
  }
  if (isOpenAIClientError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OpenAIClientError('UPSTREAM', redact(`OpenAI call to ${request.endpoint} failed: ${message}`, secret), {
    model: request.model,
    endpoint: request.endpoint,
    cause: error,
  });
}
