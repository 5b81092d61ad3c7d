import { cacheStoreContract, redisUrl, uniqueName } from '@infra/test-utils';
import { RedisCacheService } from './redis-cache.js';

const keyPrefix = `${uniqueName('cache_redis')}:`;
// Generous connect and command times: a busy machine may take seconds to connect or answer, and
// these tests are about behaviour, not speed.
const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };

cacheStoreContract({
  name: 'redis',
  create: ({ name, ttl, grace }) =>
    new RedisCacheService(name, { connection: redisUrl, keyPrefix, ttl, grace, ...patient }),
  capabilities: { shared: true, distributedLock: true },
});
