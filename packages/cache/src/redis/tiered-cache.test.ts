import { cacheStoreContract, redisUrl, uniqueName } from '@infra/test-utils';
import { TieredCacheService } from './tiered-cache.js';

const keyPrefix = `${uniqueName('cache_tiered')}:`;

cacheStoreContract({
  name: 'tiered',
  create: ({ name, ttl, grace }) => new TieredCacheService(name, { connection: redisUrl, keyPrefix, ttl, grace }),
  capabilities: { shared: true, distributedLock: true },
});
