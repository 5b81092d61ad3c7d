export { createPagination, createPaginator, paginationMeta, parsePositiveInteger } from './pagination.js';
export type { Pagination, PaginationInput, PaginationMeta, PaginationOptions, Paginator } from './pagination.js';
export { createCursorCodec } from './cursor-codec.js';
export type { CursorCodec, CursorCodecOptions, JsonValue } from './cursor-codec.js';
export { createCursorPagination, cursorPage } from './cursor-pagination.js';
export type {
  CursorPage,
  CursorPagination,
  CursorPaginationInput,
  CursorPaginationOptions,
} from './cursor-pagination.js';
export { cursorPaginationLinks, formatLinkHeader, offsetPaginationLinks } from './link-header.js';
export type { LinkOptions, WebLink } from './link-header.js';
export { cursorResponse, paginatedResponse, successResponse } from './response.js';
export type { CursorMeta, SuccessEnvelope } from './response.js';
export { defaultErrorMappings, defaultErrorSuffixes } from './error-map.js';
export type { ErrorMapping, ErrorMappings } from './error-map.js';
export { PROBLEM_CONTENT_TYPE, createProblemMapper } from './problem-details.js';
export type {
  ProblemContext,
  ProblemDetails,
  ProblemMapper,
  ProblemMapperOptions,
  ProblemResponse,
  ValidationProblem,
} from './problem-details.js';
export { createCorsConfig, createOriginMatcher } from './cors-config.js';
export type { CorsConfig, CorsConfigOptions } from './cors-config.js';
export { deprecationHeaders } from './deprecation.js';
export type { DeprecationHeaders, DeprecationOptions } from './deprecation.js';
export {
  cursorEnvelopeSchema,
  cursorQuerySchema,
  paginatedEnvelopeSchema,
  paginationQuerySchema,
  problemDetailsSchema,
  successEnvelopeSchema,
  SAFE_LINE_PATTERN,
  SAFE_TEXT_PATTERN,
  textSchema,
} from './schemas.js';
export type { JsonSchema } from './schemas.js';
export {
  ApiError,
  ApiErrorCodes,
  InvalidCursorError,
  InvalidOptionError,
  InvalidPaginationError,
  MissingPeerError,
  StoreUnavailableError,
  UnsafeCorsConfigError,
  isApiError,
} from './errors.js';
export type { ApiErrorCode, ApiErrorsByCode, InvalidCursorReason } from './errors.js';
export { rateLimitHeaderValues } from './rate-limit-headers.js';
export type { RateLimitDecisionLike, RateLimitHeaderValues, RateLimitRuleLike } from './rate-limit-headers.js';
export { MemoryIdempotencyStore, RedisIdempotencyStore } from './idempotency-store.js';
export type {
  IdempotencyBegin,
  IdempotencyRecord,
  IdempotencyStore,
  MemoryIdempotencyStoreOptions,
  RedisCommandClient,
  RedisIdempotencyStoreOptions,
} from './idempotency-store.js';
export { PostgresIdempotencyStore, idempotencyTableSql } from './postgres-idempotency-store.js';
export type { PostgresIdempotencyStoreOptions, SqlClient } from './postgres-idempotency-store.js';
export { currentRequestContext, requestIdFrom } from './request-context.js';
export type { RequestContext } from './request-context.js';
