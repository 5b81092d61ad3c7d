export { ProtectedOpenAI, createOpenAIClient } from './client.js';
export type { BreakerOptions, FallbackOption, OpenAIClientOptions, RetryOptions } from './options.js';
export type { OpenAIClientEventName, OpenAIClientEvents } from './events.js';
export { configFactory, createOpenAIConfig, ENV_VARIABLES } from './config.js';
export type { OpenAIConfig, OpenAIConfigInput } from './config.js';
export { createHealthCheck } from './health.js';
export type { HealthCheckOptions, HealthCheckResult, HealthProbeTarget } from './health.js';
export { DEFAULT_PRICES, PriceTable } from './pricing.js';
export type { ModelPrice } from './pricing.js';
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
