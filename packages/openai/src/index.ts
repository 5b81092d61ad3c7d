export * from './client.js';
export type { BreakerOptions, FallbackOption, OpenAIClientOptions, RetryOptions } from './options.js';
export * from './events.js';
export * from './config.js';
export * from './health.js';
export * from './pricing.js';
export type { RateLimitOptions } from './rate-limit/limiter.js';
export type { ResponseCacheOptions, ResponseCacheStore } from './response-cache.js';
export { encodingForModel, preloadTokenizer } from './tokens.js';
export type { EncodingName } from './tokens.js';
export {
  ErrorCodes,
  InvalidConfigError,
  InvalidOptionError,
  OpenAIClientError,
  isOpenAIClientError,
} from './errors.js';
export type { ErrorCode, OpenAIClientErrorInit, OpenAIClientErrorsByCode } from './errors.js';
export { toOpenAIClientError } from './to-client-error.js';
