/**
 * Error codes raised by @infra/openai. Identify errors by `code` (or with
 * {@link isOpenAIClientError}), never by `instanceof`: two copies of this package may be installed.
 */
export const ErrorCodes = {
  /** The model's circuit breaker is open (and no fallback could serve the call). */
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  /** The client-side RPM/TPM limiter refused the call, or OpenAI answered 429. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** An attempt ran past its timeout (or OpenAI answered 408). */
  TIMEOUT: 'TIMEOUT',
  /** OpenAI refused the credentials (401/403). */
  AUTHENTICATION: 'AUTHENTICATION',
  /** OpenAI refused the request itself (400, 404, 409 excluded, 413, 415, 422, …). */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** OpenAI failed: 5xx, 409, a broken connection, a malformed body or a stream cut mid-way. */
  UPSTREAM: 'UPSTREAM',
  /** The caller's AbortSignal aborted the call. */
  ABORTED: 'ABORTED',
  /** A configuration value (option or environment variable) is invalid. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** A function argument or option is invalid. */
  INVALID_OPTION: 'INVALID_OPTION',
  /** An optional peer dependency is needed and not installed. */
  MISSING_PEER: 'MISSING_PEER',
  /** The shared rate-limiter store (Redis) failed. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const marker = Symbol.for('@infra/openai.error');

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
 * Base class of every error @infra/openai throws, including those of calls made through the SDK
 * surface of a protected client (`client.chat.completions.create(...)`). Messages never contain
 * the API key.
 */
export class OpenAIClientError extends Error {
  readonly code: ErrorCode;
  readonly isRetryable: boolean;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly model: string | undefined;
  readonly endpoint: string | undefined;
  readonly upstreamCode: string | undefined;
  readonly upstreamType: string | undefined;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, init: OpenAIClientErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'OpenAIClientError';
    this.code = code;
    this.isRetryable = init.isRetryable ?? false;
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.model = init.model;
    this.endpoint = init.endpoint;
    this.upstreamCode = init.upstreamCode;
    this.upstreamType = init.upstreamType;
    this.param = init.param;
  }

  /** True for any error created by any copy of @infra/openai. */
  static isInstance(error: unknown): error is OpenAIClientError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(OpenAIClientError.prototype, marker, { value: true });

/** True when `error` comes from @infra/openai (any installed copy), optionally with the given code. */
export function isOpenAIClientError<C extends ErrorCode>(
  error: unknown,
  code?: C,
): error is OpenAIClientError & { code: C } {
  return OpenAIClientError.isInstance(error) && (code === undefined || error.code === code);
}

/** Thrown for a bad configuration value; `variable` names the option or environment variable. */
export class InvalidConfigError extends OpenAIClientError {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super('INVALID_CONFIG', message);
    this.name = 'InvalidConfigError';
    this.variable = variable;
  }
}

/** Thrown for a bad option or argument; `option` names it. */
export class InvalidOptionError extends OpenAIClientError {
  readonly option: string;

  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `Invalid option "${option}": expected ${expected}, got ${describe(value)}`);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

/** A short description of a value for error messages; strings are shown, objects are not. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
}
