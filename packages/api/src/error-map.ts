/** How one error code becomes an HTTP problem response. */
export interface ErrorMapping {
  /** HTTP status code (400-599). */
  status: number;
  /**
   * Short, stable summary of the problem type. Used as the problem `title` when `typeBaseUri`
   * is set; with `type: about:blank` RFC 9457 wants the HTTP reason phrase instead.
   * @default the HTTP reason phrase
   */
  title?: string;
  /**
   * Send `Retry-After` (seconds, rounded up) and a `retryAfterMs` member from the error's
   * `retryAfterMs`, when it is a positive number.
   * @default false
   */
  retryAfter?: boolean;
  /**
   * Show the error's own message as `detail` in production. Messages of server-side failures
   * name internal things (breakers, hosts, keys), so they are hidden by default.
   * @default true for 4xx, false for 5xx
   */
  expose?: boolean;
  /**
   * `detail` used when the message is not exposed.
   * @default a generic sentence for the status
   */
  detail?: string;
}

/** A table from error `code` to its mapping. */
export type ErrorMappings = Readonly<Record<string, ErrorMapping>>;

const UNAVAILABLE = 'A service this request depends on is temporarily unavailable; retry later.';
const UPSTREAM = 'An upstream service failed to handle this request.';
const TIMED_OUT = 'A service this request depends on did not answer in time.';
const COLLIDED = 'The request collided with a concurrent update; retry it.';

/**
 * Codes of the @infra packages (and common application codes) and their HTTP status. Exact codes
 * win over {@link defaultErrorSuffixes}; applications extend or override both through the error
 * handler's `mappings` / `suffixes` options.
 */
export const defaultErrorMappings: ErrorMappings = Object.freeze({
  // @infra/resilience
  CIRCUIT_OPEN: { status: 503, title: 'Circuit open', retryAfter: true, detail: UNAVAILABLE },
  RATE_LIMITED: {
    status: 429,
    title: 'Rate limited',
    retryAfter: true,
    expose: false,
    detail: 'Too many requests; retry after the delay given in Retry-After.',
  },
  TIMEOUT: { status: 504, title: 'Timeout', detail: TIMED_OUT },
  BULKHEAD_FULL: { status: 503, title: 'Capacity exhausted', retryAfter: true, detail: UNAVAILABLE },
  THROTTLER_QUEUE_FULL: { status: 503, title: 'Capacity exhausted', retryAfter: true, detail: UNAVAILABLE },
  THROTTLER_CLOSED: { status: 503, title: 'Shutting down', detail: UNAVAILABLE },
  STORE_UNAVAILABLE: { status: 503, title: 'Store unavailable', detail: UNAVAILABLE },
  INVALID_OPTION: { status: 400, title: 'Invalid option' },
  // @infra/cache
  CACHE_UNAVAILABLE: { status: 503, title: 'Cache unavailable', detail: UNAVAILABLE },
  CACHE_CLOSED: { status: 503, title: 'Shutting down', detail: UNAVAILABLE },
  LOADER_TIMEOUT: { status: 504, title: 'Timeout', detail: TIMED_OUT },
  // @infra/persistence
  INVALID_ARGUMENT: { status: 400, title: 'Invalid argument' },
  ACQUIRE_TIMEOUT: { status: 503, title: 'Database busy', retryAfter: true, detail: UNAVAILABLE },
  CONNECTION_FAILED: { status: 503, title: 'Database unavailable', detail: UNAVAILABLE },
  CONNECTION_LOST: { status: 503, title: 'Database unavailable', detail: UNAVAILABLE },
  SERIALIZATION_FAILURE: { status: 503, title: 'Concurrent update', detail: COLLIDED },
  DEADLOCK_DETECTED: { status: 503, title: 'Concurrent update', detail: COLLIDED },
  STATEMENT_TIMEOUT: { status: 504, title: 'Timeout', detail: 'The database did not answer in time.' },
  CLOSED: { status: 503, title: 'Shutting down', detail: UNAVAILABLE },
  // A repository name the code did not register: a bug, not a missing resource.
  REPOSITORY_NOT_FOUND: { status: 500, title: 'Internal error' },
  // @infra/openai: every one of these is about our call to the upstream, never the client's credentials.
  AUTHENTICATION: { status: 502, title: 'Upstream authentication failed', expose: false, detail: UPSTREAM },
  INVALID_REQUEST: { status: 502, title: 'Upstream rejected the request', expose: false, detail: UPSTREAM },
  UPSTREAM: { status: 502, title: 'Upstream error', detail: UPSTREAM },
  // @infra/api
  INVALID_PAGINATION: { status: 400, title: 'Invalid pagination' },
  INVALID_CURSOR: { status: 400, title: 'Invalid cursor' },
  // Application codes in common use
  VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  VALIDATION_ERROR: { status: 400, title: 'Validation failed' },
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  CONFLICT: { status: 409, title: 'Conflict' },
  ALREADY_EXISTS: { status: 409, title: 'Already exists' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed' },
  UNPROCESSABLE: { status: 422, title: 'Unprocessable content' },
});

/** Code suffixes for application codes such as `CHALLENGE_NOT_FOUND` or `EMAIL_ALREADY_EXISTS`. */
export const defaultErrorSuffixes: ErrorMappings = Object.freeze({
  _NOT_FOUND: { status: 404, title: 'Not found' },
  _ALREADY_EXISTS: { status: 409, title: 'Already exists' },
  _CONFLICT: { status: 409, title: 'Conflict' },
  _FORBIDDEN: { status: 403, title: 'Forbidden' },
  _UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  _INVALID: { status: 400, title: 'Invalid input' },
  _EXPIRED: { status: 410, title: 'Expired' },
});
