import { InvalidOptionError, InvalidPaginationError, check } from './errors.js';

/** What arrives from a query string: strings, numbers (after schema coercion), arrays or nothing. */
export interface PaginationInput {
  page?: unknown;
  limit?: unknown;
}

export interface PaginationOptions {
  /**
   * Page size when the request gives no `limit`.
   * @default 20 (or `maxLimit` when that is smaller)
   */
  defaultLimit?: number;
  /**
   * Largest page size a client may ask for.
   * @default 100
   */
  maxLimit?: number;
  /**
   * What a `limit` above `maxLimit` does: `'reject'` throws INVALID_PAGINATION (the client learns
   * the cap), `'clamp'` serves `maxLimit` items instead.
   * @default 'reject'
   */
  overLimit?: 'reject' | 'clamp';
  /**
   * Largest page number accepted. Deep OFFSET scans cost the database the skipped rows; lower this
   * (or use cursor pagination) for big tables.
   * @default the largest page whose offset is a safe integer
   */
  maxPage?: number;
}

/** Validated offset pagination: `page` is 1-based, `offset`/`limit` go straight into SQL. */
export interface Pagination {
  readonly page: number;
  readonly limit: number;
  readonly offset: number;
}

/** The `meta` of a paginated response envelope. */
export interface PaginationMeta {
  page: number;
  limit: number;
  total: number;
  totalPages: number;
}

/** Turns query-string `page`/`limit` into a {@link Pagination}; throws INVALID_PAGINATION on bad input. */
export type Paginator = (input?: PaginationInput) => Pagination;

const DIGITS = /^[0-9]+$/;

/**
 * Builds a reusable paginator with validated options, so per-request calls only parse input.
 * Throws INVALID_OPTION for a bad option.
 */
export function createPaginator(options: PaginationOptions = {}): Paginator {
  const maxLimit = check.integer('maxLimit', options.maxLimit ?? 100);
  const defaultLimit = check.integer('defaultLimit', options.defaultLimit ?? Math.min(20, maxLimit));
  if (defaultLimit > maxLimit) {
    throw new InvalidOptionError('defaultLimit', defaultLimit, `an integer <= maxLimit (${maxLimit})`);
  }
  const overLimit = check.oneOf('overLimit', options.overLimit ?? 'reject', ['reject', 'clamp']);
  const maxPage = check.integer('maxPage', options.maxPage ?? Number.MAX_SAFE_INTEGER);

  return (input = {}) => {
    let limit = parsePositiveInteger('limit', input.limit) ?? defaultLimit;
    if (limit > maxLimit) {
      if (overLimit === 'reject')
        throw new InvalidPaginationError('limit', input.limit, `an integer from 1 to ${maxLimit}`);
      limit = maxLimit;
    }
    const page = parsePositiveInteger('page', input.page) ?? 1;
    const offset = (page - 1) * limit;
    if (page > maxPage || !Number.isSafeInteger(offset)) {
      const largest = Math.min(maxPage, Math.floor(Number.MAX_SAFE_INTEGER / limit));
      throw new InvalidPaginationError('page', input.page, `an integer from 1 to ${largest}`);
    }
    return { page, limit, offset };
  };
}

const defaultPaginator = createPaginator();

/**
 * Parses and validates `page`/`limit` as they arrive from `request.query` (strings, numbers or
 * undefined), applies the defaults and caps, and returns `{ page, limit, offset }`.
 *
 * @example
 * const pagination = createPagination({ page: req.query.page, limit: req.query.limit });
 * const rows = await sql`SELECT * FROM t ORDER BY id LIMIT ${pagination.limit} OFFSET ${pagination.offset}`;
 */
export function createPagination(input: PaginationInput = {}, options?: PaginationOptions): Pagination {
  return (options === undefined ? defaultPaginator : createPaginator(options))(input);
}

/** `{ page, limit, total, totalPages }` for a response envelope. Throws INVALID_OPTION for a bad `total`. */
export function paginationMeta(pagination: Pagination, total: number): PaginationMeta {
  check.integer('total', total, 0);
  return { page: pagination.page, limit: pagination.limit, total, totalPages: Math.ceil(total / pagination.limit) };
}

/** undefined for an absent value (or `?page=`), else a positive safe integer; throws otherwise. */
export function parsePositiveInteger(parameter: string, value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let parsed: number;
  if (typeof value === 'number') {
    parsed = value;
  } else if (typeof value === 'string' && DIGITS.test(value)) {
    parsed = Number(value);
  } else {
    throw new InvalidPaginationError(parameter, value, 'a positive integer');
  }
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidPaginationError(parameter, value, 'a positive integer');
  }
  return parsed;
}
