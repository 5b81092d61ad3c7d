export { MessageBus } from './message-bus.js';
export type { MessageBusOptions, MessageTopics, PayloadOf, PublishRequest } from './message-bus.js';
export { MessagePublisher } from './publisher.js';
export { MessageConsumer } from './consumer.js';
export {
  closeMessaging,
  configureMessaging,
  createMessageBus,
  getMessageBus,
  messageConsumer,
  messagePublisher,
  setDefaultMessageBus,
} from './default-bus.js';
export { Subscription } from './subscription.js';
export type { MessageHandler, ReceivedMessage, SubscriptionStats } from './subscription.js';
export type { HandlerRetryOptions, SubscribeOptions } from './subscribe-options.js';
export { MessageHeaders } from './envelope.js';
export type { MessageEnvelope, PublishOptions, PublishedMessage } from './envelope.js';
export { jsonSerializer } from './serializer.js';
export type { Serializer } from './serializer.js';
export type { PayloadSchema, PayloadValidator, SafeParseSchema, StandardSchemaLike } from './schema.js';
export { currentMessageContext, parseTraceparent, runWithMessageContext } from './context.js';
export type { MessageContext, Traceparent } from './context.js';
export type { DeadLetterReason, MessagingEvents } from './events.js';
export type { MessagingHealth, SubscriptionHealth } from './health.js';
export { MemoryAdapter } from './memory/memory-adapter.js';
export type { MemoryAdapterOptions } from './memory/memory-adapter.js';
export type {
  AdapterCapabilities,
  AdapterSubscription,
  Backlog,
  Delivery,
  MessageAdapter,
  SubscribeSpec,
  WireMessage,
} from './adapter.js';
export { MemoryIdempotencyStore, idempotent } from './idempotency.js';
export type { IdempotencyStore, IdempotentOptions } from './idempotency.js';
export { ErrorCodes, InvalidOptionError, MessagingError, ValidationError, isMessagingError } from './errors.js';
export type { ErrorCode, MessagingErrorInit, MessagingErrorsByCode } from './errors.js';
