export { KafkaAdapter, createKafkaAdapter } from './kafka-adapter.js';
export type { KafkaAdapterOptions } from './kafka-adapter.js';
export type {
  EachBatchPayloadLike,
  KafkaAdminLike,
  KafkaBatchLike,
  KafkaClientLike,
  KafkaConsumerLike,
  KafkaHeaderValue,
  KafkaMessageLike,
  KafkaOutgoingMessage,
  KafkaProducerLike,
} from './kafka-client.js';
