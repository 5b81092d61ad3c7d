import type { CacheManager } from '@infra/cache';
import type { HealthCheckService } from '@infra/health';
import type { Logger } from '@infra/core';
import type { HealthCheckScheduler } from '@infra/monitoring';
import type { ProtectedOpenAI } from '@infra/openai';
import type { Persistence } from '@infra/persistence';
import type { RateLimiter } from '@infra/resilience';
import { currentRequestContext, type IdempotencyStore } from '@infra/api';
import { ChallengeGenerator } from '../challenges/challenge-generator.js';
import { ChallengeRepository } from '../challenges/challenge-repository.js';
import { ChallengeService } from '../challenges/challenge-service.js';
import type { AppConfig } from '../config.js';
import { seedSampleData } from '../seed-data.js';
import { UserService } from '../users/user-service.js';
import { createCacheManager } from './cache.js';
import { createPersistence, migrateDatabase, warmPool } from './database.js';
import { createHealthChecks } from './health.js';
import { createMessaging, type Messaging } from './messaging.js';
import { createObservability, type Observability } from './observability.js';
import { createOpenAI } from './openai.js';
import { createGenerateLimiter, createIdempotencyStore } from './rate-limit.js';
import type { Repositories } from './repositories.js';

/** Everything the HTTP layer uses, created and connected. */
export interface Resources {
  persistence: Persistence<Repositories>;
  cacheManager: CacheManager;
  messaging: Messaging;
  openai: ProtectedOpenAI | undefined;
  generateLimiter: RateLimiter;
  /** Keys of `Idempotency-Key` requests: Redis when `REDIS_URL` is set (shared by instances), else memory. */
  idempotencyStore: IdempotencyStore;
  observability: Observability;
  health: HealthCheckService;
  healthCheckScheduler: HealthCheckScheduler;
  challengeService: ChallengeService;
  userService: UserService;
  generator: ChallengeGenerator;
}

/** The service's pino logger (Fastify's `app.log`): the packages get child loggers of it. */
export type ServiceLogger = Logger & { child(bindings: Record<string, unknown>): Logger };

/** A resource to release at shutdown; closers run in reverse order of creation. */
export interface Closer {
  name: string;
  close: () => unknown;
}

/**
 * Creates and connects the service's resources in dependency order: monitors, database (migrated
 * and seeded), cache, rate limiter, OpenAI, bus with outbox relay and consumer, health checks.
 * If one fails, those already created are closed before the error is thrown.
 */
export async function createResources(
  config: AppConfig,
  logger: ServiceLogger,
): Promise<{ resources: Resources; closers: Closer[] }> {
  // One child logger per component: each line says where it comes from (`component`).
  const loggerOf = (component: string): Logger => logger.child({ component });
  const closers: Closer[] = [];
  const track = <T>(name: string, close: () => unknown, value: T): T => {
    closers.push({ name, close });
    return value;
  };
  try {
    const observability = createObservability(loggerOf('monitoring'));
    const { errorMonitor, performanceMonitor, componentMonitor, openaiMonitor } = observability;
    track('error-monitor', () => errorMonitor.close(2000), undefined);
    performanceMonitor.start();
    track(
      'performance-monitor',
      () => {
        performanceMonitor.stop();
      },
      undefined,
    );

    const persistence: Persistence<Repositories> = track(
      'database',
      () => persistence.close(),
      createPersistence(config.database, loggerOf('persistence')),
    );
    const migration = await migrateDatabase(persistence, config.database.schema);
    if (migration.applied.length > 0) logger.info({ applied: migration.applied }, 'database migrated');
    if (config.seedData && (await seedSampleData(persistence)).seeded) logger.info({}, 'sample data seeded');
    if (config.database.url !== undefined) {
      const opened = await warmPool(persistence, config.database.poolMin);
      logger.info({ opened, max: config.database.poolSize }, 'database pool warmed up');
    }
    componentMonitor.attachTransactions(persistence.transactionManager, { name: 'postgres' });

    const cacheManager: CacheManager = track(
      'cache',
      () => cacheManager.close(),
      await createCacheManager(config, loggerOf('cache')),
    );
    const { limiter: generateLimiter, store } = await createGenerateLimiter(config);
    track('rate-limit-store', () => store.close?.(), undefined);
    const idempotency = await createIdempotencyStore(config, loggerOf('idempotency'));
    track('idempotency-store', () => idempotency.close(), undefined);

    const openai = createOpenAI(config, loggerOf('openai'));
    if (openai) {
      track('openai', () => openai.close(), undefined);
      openaiMonitor.attach(openai, { name: 'challenges' });
    }

    const messaging = await createMessaging(config, persistence, loggerOf('messaging'));
    track('message-bus', () => messaging.bus.close(), undefined);
    track('outbox-relay', () => messaging.relay.close(), undefined);
    watchMessaging(messaging, observability, loggerOf('messaging'));

    const challengeService = new ChallengeService({
      cacheManager,
      challengeRepository: new ChallengeRepository(persistence.db),
      createUnitOfWork: () => persistence.createUnitOfWork(),
      // The request being served names the message's correlation id (its x-request-id).
      addToOutbox: (tx, topic, payload, { key }) => {
        const requestId = currentRequestContext()?.requestId;
        return messaging.outbox.publish(topic, payload, {
          tx,
          key,
          ...(requestId === undefined ? {} : { correlationId: requestId }),
        });
      },
      onCompleted: () => {
        observability.challengesCompleted.inc();
      },
    });
    const challengesCache = cacheManager.getCache('challenges');
    componentMonitor.attachCache(challengesCache);

    const generator = new ChallengeGenerator({
      client: openai,
      model: config.openai?.model,
      onFallback: (reason, error) => {
        logger.warn(
          { reason, code: (error as { code?: unknown } | undefined)?.code },
          'challenge generated from a template',
        );
      },
    });

    const { service: health, scheduler: healthCheckScheduler } = createHealthChecks({
      persistence,
      bus: messaging.bus,
      cache: challengesCache,
      openai,
      errorMonitor,
      logger: loggerOf('health'),
    });
    // Start periodic health checks
    healthCheckScheduler.startHealthChecks({
      intervalMs: config.health.intervalMs,
      logAllChecks: false,
      runImmediately: false,
    });
    track('health-check-scheduler', () => healthCheckScheduler.close(), undefined);

    return {
      resources: {
        persistence,
        cacheManager,
        messaging,
        openai,
        generateLimiter,
        idempotencyStore: idempotency.store,
        observability,
        health,
        healthCheckScheduler,
        challengeService,
        userService: new UserService(persistence),
        generator,
      },
      closers,
    };
  } catch (error) {
    for (const closer of [...closers].reverse()) {
      try {
        await closer.close();
      } catch (closeError) {
        logger.warn({ step: closer.name, error: String(closeError) }, 'closing after a failed start failed');
      }
    }
    throw error;
  }
}

/** Bus and relay events become metrics, dead letters become captured errors, relay failures log lines. */
function watchMessaging(messaging: Messaging, observability: Observability, logger: Logger): void {
  const { messagesHandled, errorMonitor } = observability;
  messaging.bus.on('handled', ({ topic }) => {
    messagesHandled.inc({ topic, outcome: 'handled' });
  });
  messaging.bus.on('retried', ({ topic }) => {
    messagesHandled.inc({ topic, outcome: 'retried' });
  });
  messaging.bus.on('deadLettered', ({ topic, id, group, reason, error }) => {
    messagesHandled.inc({ topic, outcome: 'dead_lettered' });
    errorMonitor.captureError(error, {
      domain: 'messaging',
      tags: { topic, reason },
      context: { messageId: id, group },
    });
  });
  messaging.relay.on('error', ({ error }) => {
    logger.warn(
      { error: error instanceof Error ? error.message : String(error) },
      'outbox relay failed; the messages stay in the outbox',
    );
  });
}
