export {
  closedPort,
  databaseUrl,
  eventually,
  kafkaBrokers,
  natsServers,
  rabbitMqUrl,
  redisUrl,
  uniqueName,
} from './services.js';
export * from './build.js';
export * from './nats-streams.js';
export * from './kafka-topics.js';
export * from './rate-limiter-store-contract.js';
export * from './cache-store-contract.js';
export { databaseDriverContract, type DatabaseDriverContractOptions } from './database-driver-contract.js';
export * from './fake-openai-server.js';
export * from './message-bus-contract.js';
export * from './idempotency-store-contract.js';
export * from './faults/index.js';
export * from './prometheus-text.js';
export * from './recording-logger.js';
