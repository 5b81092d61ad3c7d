import { messageBusContract, redisUrl, uniqueName } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { createRedisAdapter } from './redis-adapter.js';

const prefix = `${uniqueName('messaging_redis')}:`;

messageBusContract({
  name: 'redis streams',
  create: async ({ claimIdleMs }) =>
    new MessageBus({
      adapter: await createRedisAdapter({ connection: redisUrl, prefix, claimIdleMs, blockMs: 200 }),
      lagIntervalMs: 0,
    }),
  capabilities: { orderingPerKey: false, persistence: true, consumerGroups: true, replay: true },
});

afterAll(async () => {
  const admin = new Redis(redisUrl);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});
