export * from './pagination.js';
export * from './cursor-codec.js';
export * from './cursor-pagination.js';
export * from './link-header.js';
export * from './response.js';
export * from './error-map.js';
export * from './problem-details.js';
export * from './cors-config.js';
export * from './deprecation.js';
export * from './schemas.js';
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
export * from './rate-limit-headers.js';
export * from './idempotency-store.js';
export * from './postgres-idempotency-store.js';
export { currentRequestContext, requestIdFrom } from './request-context.js';
export type { RequestContext } from './request-context.js';
