import type { CacheHealth, CacheService } from '@infra/cache';
import { HealthCheckService, postgresCheck } from '@infra/health';
import type { MessageBus } from '@infra/messaging';
import type { Logger } from '@infra/core';
import { HealthCheckScheduler, type ErrorMonitor } from '@infra/monitoring';
import type { ProtectedOpenAI } from '@infra/openai';
import type { Persistence } from '@infra/persistence';
import type { Repositories } from './repositories.js';

export interface HealthDependencies {
  persistence: Persistence<Repositories>;
  bus: MessageBus;
  cache: CacheService;
  openai: ProtectedOpenAI | undefined;
  errorMonitor: ErrorMonitor;
  logger: Logger;
}

/**
 * The service's checks, served by `/health*` and run in the background by the scheduler.
 * Critical (readiness fails without them): the database and the bus. Not critical (the service
 * degrades, it does not stop): the cache, which fails open, and OpenAI, which has templates.
 */
export function createHealthChecks(deps: HealthDependencies): {
  service: HealthCheckService;
  scheduler: HealthCheckScheduler;
} {
  const service = new HealthCheckService({ defaultTimeoutMs: 2000, cacheTtlMs: 500 });
  const healthCheckScheduler = new HealthCheckScheduler({
    service,
    errorMonitor: deps.errorMonitor,
    logger: deps.logger,
  });

  // Register component health checks: SELECT 1 through the pool, warn when it is nearly exhausted.
  healthCheckScheduler.registerHealthCheck(
    'database',
    postgresCheck({ client: deps.persistence.db, stats: () => deps.persistence.driver.stats() }),
    { critical: true, componentType: 'datastore' },
  );
  healthCheckScheduler.registerHealthCheck(
    'messaging',
    async () => {
      const result = await deps.bus.healthCheck();
      return {
        status: result.status,
        message: result.output,
        observedValue: result.observedValue,
        observedUnit: result.observedUnit,
      };
    },
    { critical: true, componentType: 'component' },
  );
  healthCheckScheduler.registerHealthCheck(
    'cache',
    async () => {
      const stats = deps.cache.stats();
      // A Redis-backed cache pings Redis (outside its breaker, within its command timeout). Redis
      // away is a warning: reads fall back to memory or the database, the service still works.
      const cache = deps.cache as { checkHealth?: () => Promise<CacheHealth> };
      const health = typeof cache.checkHealth === 'function' ? await cache.checkHealth() : undefined;
      return {
        status: health?.status === 'down' ? 'warn' : 'pass',
        message:
          health?.status === 'down' ? `cache unavailable: ${health.message ?? 'Redis does not answer'}` : undefined,
        observedValue: stats.hitRate,
        observedUnit: 'ratio',
      };
    },
    { critical: false, componentType: 'datastore' },
  );
  const openai = deps.openai;
  if (openai) {
    healthCheckScheduler.registerHealthCheck(
      'openai',
      async () => {
        const result = await openai.healthCheck();
        // Generation falls back to templates: OpenAI trouble is a warning, never a failure.
        return {
          status: result.status === 'fail' ? 'warn' : result.status,
          message: result.output,
          observedValue: result.observedValue,
          observedUnit: result.observedUnit,
        };
      },
      { critical: false, timeoutMs: 5000, componentType: 'system' },
    );
  }
  return { service, scheduler: healthCheckScheduler };
}
