import type { CursorPage } from './cursor-pagination.js';
import type { Pagination, PaginationMeta } from './pagination.js';
import { paginationMeta } from './pagination.js';

/** The success envelope every endpoint answers with. */
export interface SuccessEnvelope<T, M = never> {
  success: true;
  data: T;
  meta?: M;
}

/** `meta` of a keyset page. */
export interface CursorMeta {
  limit: number;
  nextCursor: string | null;
  hasMore: boolean;
}

/** `{ success: true, data }`, plus `meta` when given. */
export function successResponse<T>(data: T): { success: true; data: T };
export function successResponse<T, M>(data: T, meta: M): { success: true; data: T; meta: M };
export function successResponse<T, M>(data: T, meta?: M): SuccessEnvelope<T, M> {
  return meta === undefined ? { success: true, data } : { success: true, data, meta };
}

/**
 * The paginated envelope of the documented usage:
 * `{ success: true, data, meta: { page, limit, total, totalPages } }`.
 * Throws INVALID_OPTION when `total` is not an integer >= 0.
 */
export function paginatedResponse<T>(
  data: readonly T[],
  total: number,
  pagination: Pagination,
): { success: true; data: readonly T[]; meta: PaginationMeta } {
  return { success: true, data, meta: paginationMeta(pagination, total) };
}

/** `{ success: true, data, meta: { limit, nextCursor, hasMore } }` for a keyset page. */
export function cursorResponse<T>(page: CursorPage<T>, limit: number): { success: true; data: T[]; meta: CursorMeta } {
  return { success: true, data: page.data, meta: { limit, nextCursor: page.nextCursor, hasMore: page.hasMore } };
}
