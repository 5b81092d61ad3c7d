export { HealthCheckService, aggregate } from './health-check-service.js';
export type { HealthCheckServiceOptions } from './health-check-service.js';
export type {
  CheckContext,
  CheckFunction,
  CheckOptions,
  CheckOutcome,
  CheckResult,
  CheckReturn,
  HealthReport,
  RunOptions,
} from './types.js';
export { normalizeStatus, statusSpellings, worst } from './status.js';
export type { HealthStatus } from './status.js';
export { HEALTH_JSON_CONTENT_TYPE, httpStatusOf, toHealthJson } from './health-json.js';
export type { HealthJson, HealthJsonCheck, HealthJsonServiceInfo } from './health-json.js';
export { GracefulShutdown, createGracefulShutdown } from './graceful-shutdown.js';
export type {
  DrainableServer,
  GracefulShutdownOptions,
  ShutdownCloseOptions,
  ShutdownLogger,
  ShutdownReport,
  ShutdownStep,
} from './graceful-shutdown.js';
export { CheckTimeoutError, HealthError, HealthErrorCodes, InvalidOptionError, isHealthError } from './errors.js';
export type { HealthErrorCode, HealthErrorsByCode } from './errors.js';
