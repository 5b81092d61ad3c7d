export { RedisStreamsAdapter, createRedisAdapter } from './redis-adapter.js';
export type { RedisAdapterEvents, RedisAdapterOptions } from './redis-adapter.js';
export { RedisIdempotencyStore } from './redis-idempotency-store.js';
export type { RedisIdempotencyStoreOptions } from './redis-idempotency-store.js';
