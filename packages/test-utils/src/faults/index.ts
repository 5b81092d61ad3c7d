export { startTcpProxy, type ProxyMode, type TcpProxy } from './tcp-proxy.js';
export { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from './redis-server.js';
export { adminQuery, terminateBackends, withApplicationName } from './postgres.js';
export { startPrivateKafka, type PrivateKafka, type PrivateKafkaOptions } from './kafka-broker.js';
export { startPrivateNats, type PrivateNats, type PrivateNatsOptions } from './nats-server.js';
export { startPrivateRabbitMq, type PrivateRabbitMq, type PrivateRabbitMqOptions } from './rabbitmq-server.js';
export { canStartPrivatePostgres, startPrivatePostgres, type PrivatePostgres } from './postgres-server.js';
