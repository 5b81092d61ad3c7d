import { check } from './errors.js';

/** A JSON Schema object, as Fastify route schemas and OpenAPI generators take it. */
export type JsonSchema = Record<string, unknown>;

/**
 * Query-string schema for offset pagination. With Fastify's default Ajv (`coerceTypes`), bad values
 * are refused with a 400 `VALIDATION_FAILED` problem naming the field before the handler runs.
 */
export function paginationQuerySchema(options: { maxLimit?: number } = {}): JsonSchema {
  return {
    type: 'object',
    properties: {
      page: { type: 'integer', minimum: 1, description: 'Page number, from 1.' },
      limit: limitProperty(options),
    },
  };
}

/** Query-string schema for cursor pagination. */
export function cursorQuerySchema(options: { maxLimit?: number } = {}): JsonSchema {
  return {
    type: 'object',
    properties: {
      cursor: { type: 'string', maxLength: 4096, description: 'Opaque cursor from a previous page.' },
      limit: limitProperty(options),
    },
  };
}

/** The `limit` of both pagination queries: an integer from 1 to `maxLimit` (100 by default). */
function limitProperty(options: { maxLimit?: number }): JsonSchema {
  const maxLimit = check.integer('maxLimit', options.maxLimit ?? 100);
  return { type: 'integer', minimum: 1, maximum: maxLimit, description: `Items per page, 1 to ${maxLimit}.` };
}

/** `{ success: true, data, meta? }` around `data`. */
export function successEnvelopeSchema(data: JsonSchema, meta?: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['success', 'data'],
    properties: { success: { type: 'boolean', const: true }, data, ...(meta === undefined ? {} : { meta }) },
  };
}

/** The paginated envelope of the documented usage around an array of `item`. */
export function paginatedEnvelopeSchema(item: JsonSchema): JsonSchema {
  return {
    ...successEnvelopeSchema(
      { type: 'array', items: item },
      {
        type: 'object',
        required: ['page', 'limit', 'total', 'totalPages'],
        properties: {
          page: { type: 'integer' },
          limit: { type: 'integer' },
          total: { type: 'integer' },
          totalPages: { type: 'integer' },
        },
      },
    ),
    required: ['success', 'data', 'meta'],
  };
}

/** A keyset page envelope around an array of `item`. */
export function cursorEnvelopeSchema(item: JsonSchema): JsonSchema {
  return {
    ...successEnvelopeSchema(
      { type: 'array', items: item },
      {
        type: 'object',
        required: ['limit', 'nextCursor', 'hasMore'],
        properties: {
          limit: { type: 'integer' },
          nextCursor: { type: ['string', 'null'] },
          hasMore: { type: 'boolean' },
        },
      },
    ),
    required: ['success', 'data', 'meta'],
  };
}

/** RFC 9457 problem details as this toolkit sends them. */
export const problemDetailsSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    retryAfterMs: { type: 'integer' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { in: { type: 'string' }, pointer: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

/**
 * Pattern of text a database can store and a person can read: no NUL (Postgres refuses it in
 * `text`), no other C0/C1 control character except tab, line feed and carriage return, no lone
 * UTF-16 surrogate. Needs Ajv's `unicodeRegExp` (Fastify's default).
 */
export const SAFE_TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\p{Cs}]*$';

/** Pattern of {@link SAFE_TEXT_PATTERN} without tab, line feed and carriage return (titles, names). */
export const SAFE_LINE_PATTERN = '^[^\\u0000-\\u001F\\u007F-\\u009F\\p{Cs}]*$';

/**
 * A string schema that refuses NUL, control characters and lone surrogates at validation (a 400
 * `VALIDATION_FAILED` naming the field) instead of letting the database refuse them with a 500.
 */
export function textSchema(options: { minLength?: number; maxLength?: number; multiline?: boolean } = {}): JsonSchema {
  check.plainObject('options', options);
  const minLength = check.integer('minLength', options.minLength ?? 0, 0);
  const maxLength = check.integer('maxLength', options.maxLength ?? 10_000, Math.max(1, minLength));
  const multiline = check.boolean('multiline', options.multiline ?? false);
  return {
    type: 'string',
    minLength,
    maxLength,
    pattern: multiline ? SAFE_TEXT_PATTERN : SAFE_LINE_PATTERN,
    description: multiline ? 'Text without control characters.' : 'One line of text without control characters.',
  };
}
