export { NatsAdapter, createNatsAdapter } from './nats-adapter.js';
export type { NatsAdapterEvents } from './nats-adapter.js';
export type { NatsAdapterOptions } from './nats-options.js';
export type { NatsConnectionLike } from './nats-client.js';
