import { rateLimiterStoreContract, uniqueName } from '@infra/test-utils';
import { MemoryRateLimiterStore } from '../index.js';

rateLimiterStoreContract({
  name: 'memory',
  create: () => new MemoryRateLimiterStore(),
  shared: false,
  keyPrefix: uniqueName('rl-memory'),
});
