export { TransactionalOutbox } from './transactional-outbox.js';
export type { OutboxPublishOptions, TransactionalOutboxOptions } from './transactional-outbox.js';
export { OUTBOX_ID_HEADER, OUTBOX_TIME_HEADER, OutboxRelay } from './outbox-relay.js';
export type { OutboxRelayEvents, OutboxRelayOptions } from './outbox-relay.js';
export { PostgresIdempotencyStore, idempotencyMigration } from './postgres-idempotency-store.js';
export type { PostgresIdempotencyStoreOptions } from './postgres-idempotency-store.js';
