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
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- kept one minor version for users moving to Logger
  ShutdownLogger,
  ShutdownReport,
  ShutdownStep,
} from './graceful-shutdown.js';
export { CheckTimeoutError, HealthError, HealthErrorCodes, InvalidOptionError, isHealthError } from './errors.js';
export type { HealthErrorCode, HealthErrorsByCode } from './errors.js';
export { postgresCheck } from './checks/postgres-check.js';
export type { PoolUsage, PostgresCheckOptions, QueryClient } from './checks/postgres-check.js';
export { redisCheck } from './checks/redis-check.js';
export type { PingClient, RedisCheckOptions } from './checks/redis-check.js';
export { httpCheck, tcpCheck } from './checks/network-checks.js';
export type { HttpCheckOptions, TcpCheckOptions } from './checks/network-checks.js';
