import type { CursorCodec, JsonValue } from './cursor-codec.js';
import { InvalidOptionError } from './errors.js';
import { createPaginator } from './pagination.js';
import type { PaginationOptions } from './pagination.js';

export interface CursorPaginationInput {
  /** The `cursor` query parameter: absent for the first page. */
  cursor?: unknown;
  limit?: unknown;
}

export interface CursorPaginationOptions<T extends JsonValue> extends Omit<PaginationOptions, 'maxPage'> {
  /** Codec that signs and verifies the cursors of this listing. */
  codec: CursorCodec<T>;
}

/** A validated keyset request: read `fetchLimit` rows after `after` (or from the start). */
export interface CursorPagination<T extends JsonValue = JsonValue> {
  readonly limit: number;
  /** One more than `limit`: the extra row tells whether a next page exists without a COUNT. */
  readonly fetchLimit: number;
  /** The decoded position of the last row the client saw, or undefined for the first page. */
  readonly after: T | undefined;
  readonly codec: CursorCodec<T>;
}

/** One page of a keyset listing. */
export interface CursorPage<R> {
  data: R[];
  /** Cursor for the next page, or null on the last page. */
  nextCursor: string | null;
  hasMore: boolean;
}

/**
 * Parses `limit` and verifies `cursor` (INVALID_PAGINATION / INVALID_CURSOR on bad input).
 *
 * @example
 * const p = createCursorPagination(req.query, { codec });
 * const rows = await sql`SELECT * FROM t WHERE ${p.after === undefined} OR id > ${p.after}
 *   ORDER BY id LIMIT ${p.fetchLimit}`;
 * const page = cursorPage(rows, p, (row) => row.id);
 */
export function createCursorPagination<T extends JsonValue>(
  input: CursorPaginationInput,
  options: CursorPaginationOptions<T>,
): CursorPagination<T> {
  const codec = options.codec as unknown;
  if (typeof codec !== 'object' || codec === null || typeof (codec as CursorCodec).decode !== 'function') {
    throw new InvalidOptionError('codec', codec, 'a codec from createCursorCodec()');
  }
  const { limit } = createPaginator(options)({ limit: input.limit });
  const cursor = input.cursor;
  const after = cursor === undefined || cursor === null || cursor === '' ? undefined : options.codec.decode(cursor);
  return { limit, fetchLimit: limit + 1, after, codec: options.codec };
}

/**
 * Cuts the `fetchLimit` rows a query returned down to one page and signs the position of its last
 * row as the next cursor.
 */
export function cursorPage<R, T extends JsonValue>(
  rows: readonly R[],
  pagination: CursorPagination<T>,
  toPosition: (row: R) => T,
): CursorPage<R> {
  const given: unknown = rows;
  if (!Array.isArray(given)) throw new InvalidOptionError('rows', given, 'an array');
  if (typeof toPosition !== 'function') throw new InvalidOptionError('toPosition', toPosition, 'a function');
  const hasMore = rows.length > pagination.limit;
  const data = rows.slice(0, pagination.limit);
  const last = data.at(-1);
  const nextCursor = hasMore && last !== undefined ? pagination.codec.encode(toPosition(last)) : null;
  return { data, nextCursor, hasMore };
}
