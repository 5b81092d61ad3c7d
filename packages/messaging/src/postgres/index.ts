export { PostgresAdapter, createPostgresAdapter } from './postgres-adapter.js';
export type { PostgresAdapterEvents } from './postgres-adapter.js';
export type { PostgresAdapterOptions } from './postgres-options.js';
export { PostgresInbox } from './postgres-inbox.js';
export type { InboxAckOptions, InboxMessage, InboxTransaction } from './postgres-inbox.js';
export type { PersistenceLike } from './postgres-db.js';
