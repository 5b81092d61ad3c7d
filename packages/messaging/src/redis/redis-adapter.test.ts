import { messageBusContract, redisUrl, uniqueName } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBus } from '../message-bus.js';
import { FETCH_RETRY_CAP_MS, fetchRetryDelay } from '../subscription.js';
import { blockingReconnectDelay, createRedisAdapter } from './redis-adapter.js';

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

describe('retry waits after Redis went away', () => {
  it('reconnects the blocking connection at most 250 ms apart, from 50 ms up', () => {
    expect([1, 2, 3, 4, 5, 6].map(blockingReconnectDelay)).toEqual([50, 100, 150, 200, 250, 250]);
    for (const times of [0, 7, 100, 10_000, Number.MAX_SAFE_INTEGER]) {
      const delay = blockingReconnectDelay(times);
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(250);
    }
  });

  it('retries a failed fetch from 25 ms doubling to 250 ms at most, jitter only shortening it', () => {
    const longest = (attempt: number) => fetchRetryDelay(attempt, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(longest)).toEqual([25, 50, 100, 200, 250, 250]);
    expect(fetchRetryDelay(4, () => 0)).toBe(100);
    for (const attempt of [0, 7, 50, 1_000_000]) {
      expect(longest(attempt)).toBeLessThanOrEqual(FETCH_RETRY_CAP_MS);
      expect(fetchRetryDelay(attempt, () => 0)).toBeGreaterThan(0);
    }
    expect(FETCH_RETRY_CAP_MS).toBe(250);
  });
});
