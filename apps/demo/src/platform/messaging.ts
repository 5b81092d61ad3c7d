import type { Logger } from '@infra/core';
import {
  createMessageBus,
  idempotent,
  type MessageAdapter,
  type MessageBus,
  type PayloadSchema,
  type Subscription,
} from '@infra/messaging';
import { OutboxRelay, PostgresIdempotencyStore, TransactionalOutbox } from '@infra/messaging/outbox';
import type { Persistence } from '@infra/persistence';
import type { ChallengeCompletedEvent } from '../challenges/challenge.js';
import { CHALLENGE_COMPLETED } from '../challenges/challenge-service.js';
import type { AppConfig } from '../config.js';
import { createChallengeCompletedHandler } from '../users/challenge-completed-handler.js';
import type { Repositories } from './repositories.js';

declare module '@infra/messaging' {
  interface MessageTopics {
    'challenge.completed': ChallengeCompletedEvent;
  }
}

/** Consumer group of the service: instances share the messages, each handled by one of them. */
export const CONSUMER_GROUP = 'challenges-service';

/** Checked when a completion is written to the outbox and again when it is consumed. */
const challengeCompletedSchema: PayloadSchema = {
  safeParse(payload: unknown) {
    const p = payload as Partial<ChallengeCompletedEvent> | null;
    const valid =
      typeof p === 'object' &&
      p !== null &&
      typeof p.completionId === 'string' &&
      typeof p.userId === 'string' &&
      typeof p.challengeId === 'string' &&
      Number.isSafeInteger(p.score) &&
      (p.score ?? -1) >= 0 &&
      typeof p.timestamp === 'string' &&
      !Number.isNaN(Date.parse(p.timestamp));
    return valid
      ? { success: true }
      : {
          success: false,
          error: { issues: ['expected { completionId, userId, challengeId, score >= 0, timestamp }'] },
        };
  },
};

/** The transport named by the configuration (`MESSAGING`, or the first variable set); `undefined`: memory. */
async function createAdapter(
  config: AppConfig,
  persistence: Persistence<Repositories>,
): Promise<MessageAdapter | undefined> {
  switch (config.messaging) {
    case 'kafka': {
      const { createKafkaAdapter } = await import('@infra/messaging/kafka');
      return createKafkaAdapter({
        brokers: config.kafkaBrokers ?? [],
        clientId: 'challenges-service',
        idempotent: true,
      });
    }
    case 'rabbitmq': {
      const { createRabbitMqAdapter } = await import('@infra/messaging/rabbitmq');
      return createRabbitMqAdapter({ url: config.rabbitMqUrl ?? '', exchangePrefix: config.messagingPrefix });
    }
    case 'nats': {
      const { createNatsAdapter } = await import('@infra/messaging/nats');
      return createNatsAdapter({
        servers: config.natsServers ?? [],
        streamPrefix: `${config.messagingPrefix}MESSAGING_`,
        subjectPrefix: `${config.messagingPrefix}messaging`,
        name: 'challenges-service',
      });
    }
    case 'postgres': {
      const { createPostgresAdapter } = await import('@infra/messaging/postgres');
      // The queue's tables sit in the service's own schema; its LISTEN connection is opened from the URL.
      return createPostgresAdapter({
        persistence,
        connectionString: config.database.url ?? '',
        ...(config.database.schema === undefined ? {} : { schema: config.database.schema }),
      });
    }
    case 'redis': {
      const { createRedisAdapter } = await import('@infra/messaging/redis');
      return createRedisAdapter({ connection: config.redis.url ?? '', prefix: `${config.redis.keyPrefix}stream:` });
    }
    case 'memory':
      return undefined;
  }
}

export interface Messaging {
  bus: MessageBus;
  outbox: TransactionalOutbox;
  relay: OutboxRelay;
  /** The statistics consumer of `challenge.completed`. */
  statsSubscription: Subscription;
}

/**
 * The bus, the transactional outbox that `ChallengeService` writes to, the relay that delivers
 * outbox rows to the bus, and the idempotent statistics consumer.
 */
export async function createMessaging(
  config: AppConfig,
  persistence: Persistence<Repositories>,
  logger: Logger,
): Promise<Messaging> {
  const adapter = await createAdapter(config, persistence);
  const bus = createMessageBus({
    ...(adapter === undefined ? {} : { adapter }),
    group: CONSUMER_GROUP,
    schemas: { [CHALLENGE_COMPLETED]: challengeCompletedSchema },
    retry: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 5000 },
    logger,
  });
  const relay = new OutboxRelay({ persistence, bus, pollIntervalMs: config.outboxPollMs });
  const outbox = new TransactionalOutbox({ bus, persistence, relay });

  // The dedupe record and the statistics update share one transaction (the store's queries run on
  // persistence.db, which joins the ambient transaction): a message counts exactly once, even if
  // the process dies between the two.
  const store = new PostgresIdempotencyStore({ db: persistence.db });
  const updateStats = createChallengeCompletedHandler(persistence);
  const handler = idempotent<ChallengeCompletedEvent>((payload) => updateStats(payload), { store });

  // As in the documented usage: messageConsumer.subscribe('challenge.completed', handler).
  const messageConsumer = bus.consumer;
  const statsSubscription = messageConsumer.subscribe(
    CHALLENGE_COMPLETED,
    (payload, message) =>
      persistence.withTransaction(async () => {
        await handler(payload, message);
      }),
    { concurrency: 8, startFrom: 'earliest' },
  );
  await statsSubscription.ready();
  relay.start();
  return { bus, outbox, relay, statsSubscription };
}
