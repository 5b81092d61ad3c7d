export { RedisTokenBudgetStore } from './redis-store.js';
export type { RedisTokenBudgetStoreOptions } from './redis-store.js';
