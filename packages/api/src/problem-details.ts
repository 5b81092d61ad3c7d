import { STATUS_CODES } from 'node:http';
import { defaultErrorMappings, defaultErrorSuffixes } from './error-map.js';
import type { ErrorMapping } from './error-map.js';
import { InvalidOptionError, check } from './errors.js';

/** Media type of RFC 9457 problem responses. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** An RFC 9457 problem details object with this toolkit's `code` member. */
export interface ProblemDetails {
  /** URI of the problem type; `about:blank` when no `typeBaseUri` is configured. */
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The request path (without its query, which may hold secrets). */
  instance?: string;
  /** Stable, machine-readable error code (`CIRCUIT_OPEN`, `VALIDATION_FAILED`, ...). */
  code: string;
  /** Fastify's request id, to find the log line of this occurrence. */
  requestId?: string;
  /** Milliseconds until a retry may succeed (429/503 with a known delay). */
  retryAfterMs?: number;
  /** Failing fields of a validation error. */
  errors?: ValidationProblem[];
  [extension: string]: unknown;
}

/** One failing field of a request validation. */
export interface ValidationProblem {
  /** Which part of the request failed: `body`, `querystring`, `params` or `headers`. */
  in: string;
  /** JSON pointer to the field inside that part (`/page`, `/items/0/name`). */
  pointer: string;
  message: string;
}

/** What to send: status, extra headers and the problem body. */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: ProblemDetails;
}

export interface ProblemMapperOptions {
  /**
   * Extra or overriding exact-code mappings, merged over {@link defaultErrorMappings}.
   * @default {} (the default table alone)
   */
  mappings?: Record<string, ErrorMapping>;
  /**
   * Extra or overriding code-suffix mappings, merged over {@link defaultErrorSuffixes}.
   * @default {} (the default suffixes alone)
   */
  suffixes?: Record<string, ErrorMapping>;
  /**
   * Hide the messages of 5xx errors (and of mappings with `expose: false`) behind generic details.
   * @default process.env.NODE_ENV === 'production'
   */
  production?: boolean;
  /**
   * Show the messages of 5xx errors whose mapping does not say `expose: true`. Off by default in
   * every environment: a 5xx message is often a driver's (`invalid byte sequence…`, a host name, a
   * constraint) and says nothing a client can act on. The cause goes to the request log instead.
   * Ignored in production. Turn it on for local debugging only.
   * @default false
   */
  exposeServerErrors?: boolean;
  /**
   * Base URI of problem types: `type` becomes base + the code in kebab case
   * (`https://errors.example.com/circuit-open`) and `title` the mapping's title.
   * @default undefined (`type: 'about:blank'`, `title`: the HTTP reason phrase)
   */
  typeBaseUri?: string;
}

/** Per-request details of the occurrence. */
export interface ProblemContext {
  instance?: string;
  requestId?: string;
}

export type ProblemMapper = (error: unknown, context?: ProblemContext) => ProblemResponse;

const GENERIC_DETAIL: Record<number, string> = {
  500: 'An unexpected error occurred.',
  502: 'An upstream service failed to handle this request.',
  503: 'The service is temporarily unavailable; retry later.',
  504: 'A service this request depends on did not answer in time.',
};

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  statusCode?: unknown;
  status?: unknown;
  retryAfterMs?: unknown;
  validation?: unknown;
  validationContext?: unknown;
}

/**
 * Builds the function that turns any thrown value into an RFC 9457 problem response. Lookup
 * order: Fastify validation errors (400 `VALIDATION_FAILED` with `errors`), the exact `code`, the
 * longest matching code suffix, the error's own `statusCode`/`status` (4xx/5xx), else 500
 * `INTERNAL_ERROR`.
 */
export function createProblemMapper(options: ProblemMapperOptions = {}): ProblemMapper {
  check.plainObject('options', options);
  const mappings = { ...defaultErrorMappings, ...checkTable('mappings', options.mappings) };
  const suffixes = Object.entries({ ...defaultErrorSuffixes, ...checkTable('suffixes', options.suffixes) }).sort(
    ([a], [b]) => b.length - a.length,
  );
  const production = check.boolean('production', options.production ?? process.env.NODE_ENV === 'production');
  const exposeServerErrors = !production && check.boolean('exposeServerErrors', options.exposeServerErrors ?? false);
  const typeBaseUri =
    options.typeBaseUri === undefined ? undefined : check.nonEmptyString('typeBaseUri', options.typeBaseUri);

  return (thrown, context = {}) => {
    const error: ErrorShape = typeof thrown === 'object' && thrown !== null ? thrown : {};
    const message = typeof error.message === 'string' && error.message !== '' ? error.message : String(thrown);
    let code = typeof error.code === 'string' && error.code !== '' ? error.code : undefined;
    let mapping: ErrorMapping | undefined;
    let errors: ValidationProblem[] | undefined;

    if (Array.isArray(error.validation)) {
      code = 'VALIDATION_FAILED';
      mapping = mappings.VALIDATION_FAILED;
      errors = validationProblems(error.validation, error.validationContext);
    } else if (code !== undefined) {
      mapping = mappings[code] ?? suffixes.find(([suffix]) => code?.endsWith(suffix))?.[1];
    }
    if (mapping === undefined) {
      const status = httpStatus(error.statusCode) ?? httpStatus(error.status);
      mapping = { status: status ?? 500 };
      // Unknown server-side codes (ECONNREFUSED, driver codes) say nothing useful to a client.
      if (status === undefined || status >= 500) code = 'INTERNAL_ERROR';
    }

    const status = mapping.status;
    const expose =
      status < 500 ? !production || (mapping.expose ?? true) : mapping.expose === true || exposeServerErrors;
    const body: ProblemDetails = {
      type: typeBaseUri === undefined ? 'about:blank' : typeBaseUri + kebab(code ?? `HTTP_${status}`),
      title: (typeBaseUri === undefined ? undefined : mapping.title) ?? STATUS_CODES[status] ?? 'Error',
      status,
      detail: expose ? message : (mapping.detail ?? GENERIC_DETAIL[status] ?? STATUS_CODES[status] ?? 'Error'),
      ...(context.instance === undefined ? {} : { instance: context.instance }),
      code: code ?? `HTTP_${status}`,
      ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
    };
    if (errors !== undefined) body.errors = errors;

    const headers: Record<string, string> = {};
    const retryAfterMs = error.retryAfterMs;
    if (
      mapping.retryAfter === true &&
      typeof retryAfterMs === 'number' &&
      Number.isFinite(retryAfterMs) &&
      retryAfterMs > 0
    ) {
      body.retryAfterMs = Math.ceil(retryAfterMs);
      headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
    return { status, headers, body };
  };
}

function httpStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 ? value : undefined;
}

function validationProblems(validation: unknown[], context: unknown): ValidationProblem[] {
  const location = typeof context === 'string' ? context : 'body';
  return validation.map((entry) => {
    const item = (typeof entry === 'object' && entry !== null ? entry : {}) as {
      instancePath?: unknown;
      message?: unknown;
      params?: { missingProperty?: unknown; additionalProperty?: unknown };
    };
    let pointer = typeof item.instancePath === 'string' ? item.instancePath : '';
    const property = item.params?.missingProperty ?? item.params?.additionalProperty;
    if (typeof property === 'string') pointer += `/${property.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    return { in: location, pointer, message: typeof item.message === 'string' ? item.message : 'is invalid' };
  });
}

function kebab(code: string): string {
  return code.toLowerCase().replaceAll('_', '-');
}

function checkTable(option: string, table: unknown): Record<string, ErrorMapping> {
  if (table === undefined) return {};
  const entries = check.plainObject(option, table);
  for (const [code, mapping] of Object.entries(entries)) {
    const value = check.plainObject(`${option}.${code}`, mapping);
    if (httpStatus(value.status) === undefined) {
      throw new InvalidOptionError(`${option}.${code}.status`, value.status, 'an HTTP error status from 400 to 599');
    }
  }
  return entries as Record<string, ErrorMapping>;
}
