/**
 * The part of a Kafka client the adapter uses, shaped after kafkajs so that a `Kafka` instance of
 * kafkajs fits as it is. kafkajs is in maintenance: to move to another client, wrap it in these
 * few methods.
 */

export type KafkaHeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/**
 * A record as the client hands it over, taken as it comes: kafkajs gives offsets and timestamps as
 * strings and headers as an object, `@platformatic/kafka` gives bigints and a `Map` of buffers.
 */
export interface KafkaMessageLike {
  /** `@platformatic/kafka` leaves out a key (or value) that the record does not have. */
  key: Buffer | null | undefined;
  /** The payload; a record without one reads as an empty body. */
  value: Buffer | null | undefined;
  /** By name: an object (kafkajs) or a `Map` (`@platformatic/kafka`); values are decoded as UTF-8. */
  headers?: Record<string, KafkaHeaderValue> | ReadonlyMap<Buffer | string, Buffer | string>;
  /** Milliseconds since the epoch. */
  timestamp: string | bigint;
  /** Its offset in its partition. */
  offset: string | bigint;
}

export interface KafkaBatchLike {
  topic: string;
  partition: number;
  messages: KafkaMessageLike[];
}

export interface EachBatchPayloadLike {
  batch: KafkaBatchLike;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface KafkaOutgoingMessage {
  key: string | null;
  value: Buffer | string;
  headers: Record<string, string>;
  timestamp: string;
}

export interface KafkaProducerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(batch: {
    topicMessages: { topic: string; messages: KafkaOutgoingMessage[] }[];
    acks?: number;
  }): Promise<unknown>;
}

export interface KafkaConsumerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /**
   * Instrumentation events (`consumer.group_join`, `consumer.crash`, `consumer.stop`, …), as kafkajs
   * names them; used to tell whether the consumer is in its group. Optional for other clients.
   */
  on?(event: string, listener: (event: { payload?: unknown }) => void): unknown;
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>;
  /** Commits offsets of partitions assigned to this member (kafkajs `commitOffsets`). */
  commitOffsets?(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  run(config: {
    autoCommit?: boolean;
    eachBatchAutoResolve?: boolean;
    partitionsConsumedConcurrently?: number;
    eachBatch: (payload: EachBatchPayloadLike) => Promise<void>;
  }): Promise<void>;
}

export interface KafkaAdminLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  describeCluster(): Promise<unknown>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; offset: string; high?: string; low?: string }[]>;
  /** Partitions of each topic (kafkajs `fetchTopicMetadata`); lets the group leader assign every member's topics. */
  fetchTopicMetadata?(options: {
    topics: string[];
  }): Promise<{ topics: { name: string; partitions: { partitionId: number }[] }[] }>;
  /** Names of the topics that exist (kafkajs `listTopics`). */
  listTopics?(): Promise<string[]>;
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

export interface KafkaClientLike {
  producer(config?: {
    idempotent?: boolean;
    maxInFlightRequests?: number;
    allowAutoTopicCreation?: boolean;
  }): KafkaProducerLike;
  consumer(config: {
    groupId: string;
    allowAutoTopicCreation?: boolean;
    sessionTimeout?: number;
    heartbeatInterval?: number;
    rebalanceTimeout?: number;
    maxWaitTimeInMs?: number;
    /** Most bytes one fetch takes from one partition. */
    maxBytesPerPartition?: number;
    /** kafkajs partition assigner factories, preferred first. */
    partitionAssigners?: unknown[];
  }): KafkaConsumerLike;
  admin(): KafkaAdminLike;
}
