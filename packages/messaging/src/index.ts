export * from './message-bus.js';
export * from './publisher.js';
export * from './consumer.js';
export * from './default-bus.js';
export { Subscription } from './subscription.js';
export type { MessageHandler, ReceivedMessage, SubscriptionStats } from './subscription.js';
export type { HandlerRetryOptions, SubscribeOptions } from './subscribe-options.js';
export { MessageHeaders } from './envelope.js';
export type { MessageEnvelope, PublishOptions, PublishedMessage } from './envelope.js';
export { jsonSerializer } from './serializer.js';
export type { Serializer } from './serializer.js';
export type {
  PayloadSchema,
  PayloadValidator,
  SafeParseSchema,
  StandardSchemaLike,
  StandardSchemaResult,
} from './schema.js';
export { currentMessageContext, parseTraceparent, runWithMessageContext } from './context.js';
export type { MessageContext, Traceparent } from './context.js';
export * from './events.js';
export type { MessagingHealth, SubscriptionHealth } from './health.js';
export * from './memory/memory-adapter.js';
export * from './adapter.js';
export * from './connection-events.js';
export * from './idempotency.js';
export { ErrorCodes, InvalidOptionError, MessagingError, ValidationError, isMessagingError } from './errors.js';
export type { ErrorCode, MessagingErrorInit, MessagingErrorsByCode } from './errors.js';
