import { cacheStoreContract } from '@infra/test-utils';
import { InMemoryCacheService } from './memory-cache.js';

cacheStoreContract({
  name: 'memory',
  create: ({ name, ttl, grace }) => new InMemoryCacheService(name, { ttl, grace }),
  capabilities: { shared: false, distributedLock: false },
});
