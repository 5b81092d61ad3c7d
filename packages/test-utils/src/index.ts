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
export { buildIfStale } from './build.js';
export { deleteNatsStreams } from './nats-streams.js';
export { createKafkaTopics } from './kafka-topics.js';
export { rateLimiterStoreContract, type RateLimiterStoreContractOptions } from './rate-limiter-store-contract.js';
export { cacheStoreContract, type CacheStoreContractOptions } from './cache-store-contract.js';
export { databaseDriverContract, type DatabaseDriverContractOptions } from './database-driver-contract.js';
export {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
  type FakeReply,
  type RecordedRequest,
} from './fake-openai-server.js';
export { messageBusContract, type MessageBusContractOptions } from './message-bus-contract.js';
export { expectIdempotencyClaims, type ContractIdempotencyStore } from './idempotency-store-contract.js';
export {
  startPrivateKafka,
  startPrivateNats,
  startPrivateRedis,
  startTcpProxy,
  adminQuery,
  terminateBackends,
  withApplicationName,
  type PrivateKafka,
  type PrivateKafkaOptions,
  type PrivateNats,
  type PrivateNatsOptions,
  type PrivateRedis,
  type PrivateRedisOptions,
  type ProxyMode,
  type TcpProxy,
} from './faults/index.js';
export { startPrivateRabbitMq, type PrivateRabbitMq, type PrivateRabbitMqOptions } from './faults/index.js';
export { canStartPrivatePostgres, startPrivatePostgres, type PrivatePostgres } from './faults/index.js';
export {
  assertNoDuplicateFamilies,
  duplicateFamilies,
  parsePrometheus,
  valueOf,
  type Exposition,
  type Sample,
} from './prometheus-text.js';
export { recordingLogger, type LoggedLine } from './recording-logger.js';
