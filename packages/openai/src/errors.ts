import { InfraError, errorCodes, errorFamily, invalidOptionClass, optionChecks } from '@infra/core';
import type { ErrorCodeMap, ErrorGuard, InvalidOptionClass, InvalidOptionErrorOf, OptionChecks } from '@infra/core';

const codes = [
  'CIRCUIT_OPEN',
  'RATE_LIMITED',
  'TIMEOUT',
  'AUTHENTICATION',
  'INVALID_REQUEST',
  'UPSTREAM',
  'ABORTED',
  'INVALID_CONFIG',
  'INVALID_OPTION',
  'STORE_UNAVAILABLE',
] as const;

/** The `code` of an error of this package. */
export type ErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/openai. Identify errors by `code` (or with
 * {@link isOpenAIClientError}), never by `instanceof`: two copies of this package may be installed.
 *
 * - `CIRCUIT_OPEN`: the model's circuit breaker is open (and no fallback could serve the call).
 * - `RATE_LIMITED`: the client-side RPM/TPM limiter refused the call, or OpenAI answered 429.
 * - `TIMEOUT`: an attempt ran past its timeout (or OpenAI answered 408).
 * - `AUTHENTICATION`: OpenAI refused the credentials (401/403).
 * - `INVALID_REQUEST`: OpenAI refused the request itself (400, 404, 409 excluded, 413, 415, 422, …).
 * - `UPSTREAM`: OpenAI failed: 5xx, 409, a broken connection, a malformed body or a stream cut
 *   mid-way.
 * - `ABORTED`: the caller's AbortSignal aborted the call.
 * - `INVALID_CONFIG`: a configuration value (option or environment variable) is invalid.
 * - `INVALID_OPTION`: a function argument or option is invalid.
 * - `STORE_UNAVAILABLE`: the shared rate-limiter store (Redis) failed.
 */
export const ErrorCodes: ErrorCodeMap<ErrorCode> = errorCodes(codes);

export interface OpenAIClientErrorInit {
  cause?: unknown;
  isRetryable?: boolean;
  /** HTTP status answered by OpenAI, when there was one. */
  status?: number | undefined;
  /** OpenAI's `x-request-id`, to quote to OpenAI support. */
  requestId?: string | undefined;
  /** How long the server (or the limiter) asks to wait before trying again, in ms. */
  retryAfterMs?: number | undefined;
  model?: string | undefined;
  /** API path of the call, e.g. `/chat/completions`. */
  endpoint?: string | undefined;
  /** OpenAI's own error `code` (e.g. `context_length_exceeded`, `insufficient_quota`). */
  upstreamCode?: string | undefined;
  /** OpenAI's error `type` (e.g. `invalid_request_error`). */
  upstreamType?: string | undefined;
  /** The request parameter OpenAI blames, if any. */
  param?: string | undefined;
}

/**
 * Base class of every error @infra/openai raises on its own account. A failed call of a protected
 * client rejects with the SDK's own error class (`OpenAI.APIError` and its subclasses), whose
 * `code` is one of {@link ErrorCodes}; `toOpenAIClientError(error)` turns it into this class with
 * every field. Messages never contain the API key.
 */
export class OpenAIClientError extends InfraError<ErrorCode> {
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly model: string | undefined;
  readonly endpoint: string | undefined;
  readonly upstreamCode: string | undefined;
  readonly upstreamType: string | undefined;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, init: OpenAIClientErrorInit = {}) {
    super(code, message, { cause: init.cause, isRetryable: init.isRetryable ?? false });
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.model = init.model;
    this.endpoint = init.endpoint;
    this.upstreamCode = init.upstreamCode;
    this.upstreamType = init.upstreamType;
    this.param = init.param;
  }
}

/** Thrown for a bad configuration value; `variable` names the option or environment variable. */
export class InvalidConfigError extends OpenAIClientError {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super('INVALID_CONFIG', message);
    this.variable = variable;
  }
}

/** Thrown for a bad option or argument; `option` names it and `value` holds what was given. */
export const InvalidOptionError: InvalidOptionClass<OpenAIClientError> = invalidOptionClass(OpenAIClientError);
/** An error made by {@link InvalidOptionError}: a `OpenAIClientError` with `option` and `value`. */
export type InvalidOptionError = InvalidOptionErrorOf<OpenAIClientError>;

/** True when `error` comes from @infra/openai (any installed copy), optionally with the given code. */
export const isOpenAIClientError: ErrorGuard<OpenAIClientError, OpenAIClientErrorsByCode> = errorFamily(
  OpenAIClientError,
  '@infra/openai',
).is;

/** Option checks that throw this package's `INVALID_OPTION`. */
export const check: OptionChecks = optionChecks(InvalidOptionError);

/** The class of each code that has one, for the narrowing of {@link isOpenAIClientError}. */
export interface OpenAIClientErrorsByCode {
  INVALID_CONFIG: InvalidConfigError;
  INVALID_OPTION: InvalidOptionError;
}
