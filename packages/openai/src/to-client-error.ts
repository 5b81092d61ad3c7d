import OpenAI from 'openai';
import { ErrorCodes, OpenAIClientError, isOpenAIClientError, type ErrorCode } from './errors.js';

/** The `type` of the error bodies a protected client answers the SDK with. */
export const INFRA_ERROR_TYPE = 'infra_openai_error';

const CODES = new Set<string>(Object.values(ErrorCodes));

/** The body fields a protected client puts on its error responses. */
interface InfraErrorBody {
  message?: unknown;
  type?: unknown;
  code?: unknown;
  param?: unknown;
  is_retryable?: unknown;
  status?: unknown;
  retry_after_ms?: unknown;
  model?: unknown;
  endpoint?: unknown;
  upstream_code?: unknown;
  upstream_type?: unknown;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/**
 * The coded error of a failed call of a protected client, with every field (`model`, `endpoint`,
 * `retryAfterMs`, `upstreamCode`, …), from what the call rejected with: an `OpenAIClientError`
 * as it is, or one of the SDK's documented error classes (`OpenAI.APIError` and subclasses,
 * `APIUserAbortError` → `ABORTED`, `APIConnectionTimeoutError` → `TIMEOUT`, `APIConnectionError`
 * → `UPSTREAM`). Anything else gives `undefined`.
 */
export function toOpenAIClientError(error: unknown): OpenAIClientError | undefined {
  if (isOpenAIClientError(error)) return error;
  if (!(error instanceof OpenAI.OpenAIError)) return undefined;
  if (error instanceof OpenAI.APIUserAbortError) {
    return new OpenAIClientError('ABORTED', 'OpenAI call was aborted by the caller', { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new OpenAIClientError('TIMEOUT', 'OpenAI call timed out', { isRetryable: true, cause: error });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new OpenAIClientError('UPSTREAM', `Connection to OpenAI failed: ${error.message}`, {
      isRetryable: true,
      cause: error,
    });
  }
  if (!(error instanceof OpenAI.APIError)) return undefined;
  const body = (typeof error.error === 'object' && error.error !== null ? error.error : {}) as InfraErrorBody;
  const code = str(body.code);
  if (body.type !== INFRA_ERROR_TYPE || code === undefined || !CODES.has(code)) return undefined;
  return new OpenAIClientError(code as ErrorCode, str(body.message) ?? error.message, {
    isRetryable: body.is_retryable === true,
    status: num(body.status),
    requestId: error.requestID ?? undefined,
    retryAfterMs: num(body.retry_after_ms),
    model: str(body.model),
    endpoint: str(body.endpoint),
    upstreamCode: str(body.upstream_code),
    upstreamType: str(body.upstream_type),
    param: str(body.param),
    cause: error,
  });
}
