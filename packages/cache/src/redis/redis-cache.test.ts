import { cacheStoreContract, redisUrl, uniqueName } from '@infra/test-utils';
import { RedisCacheService } from './redis-cache.js';

const keyPrefix = `${uniqueName('cache_redis')}:`;

cacheStoreContract({
  name: 'redis',
  create: ({ name, ttl, grace }) => new RedisCacheService(name, { connection: redisUrl, keyPrefix, ttl, grace }),
  capabilities: { shared: true, distributedLock: true },
});
