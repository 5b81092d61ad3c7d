export { RabbitMqAdapter, createRabbitMqAdapter } from './rabbitmq-adapter.js';
export type { RabbitMqAdapterOptions } from './rabbitmq-options.js';
