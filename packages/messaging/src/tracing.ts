import {
  extractContext,
  injectContext,
  startSpan,
  tracerFor,
  tracingEnabled,
  type OpenSpan,
  type TelemetryContext,
} from '@infra/core';
import type { Delivery, WireMessage } from './adapter.js';

/**
 * Spans of the bus, after OpenTelemetry's messaging conventions: a producer span per message
 * published (`create` when the outbox stores it, `send` when the bus sends it), a client span per
 * batch the relay sends, and a consumer span per message processed, a child of the producer's span
 * and linked to it. Without an SDK each is one check (`tracingEnabled()`), before any string or
 * object is made.
 */
const tracer = tracerFor('@infra/messaging');

/** `messaging.system` of an adapter: both Kafka clients are Kafka. */
export function messagingSystem(adapterName: string): string {
  return adapterName === 'platformatic-kafka' ? 'kafka' : adapterName;
}

const producerOptions = { kind: 'producer' } as const;
const consumerRoot = { kind: 'consumer', root: true } as const;

/**
 * Starts the producer span of `message` and writes its context into the message's headers (W3C
 * `traceparent` and `tracestate`, through the registered propagator). `parent` is the context a
 * caller gave in its own headers; else the active span is the parent. Returns the span while it
 * records, for the caller to end; without an SDK, or unsampled, the headers stay as built.
 */
export function traceProducer(
  system: string,
  operation: 'create' | 'send',
  message: WireMessage,
  parent: TelemetryContext | undefined,
): OpenSpan | undefined {
  if (!tracingEnabled()) return undefined;
  const open = startSpan(
    tracer,
    `publish ${message.topic}`,
    parent === undefined ? producerOptions : { kind: 'producer', parent },
  );
  const span = open.span;
  if (span === undefined) return undefined;
  span.setAttributes({
    'messaging.system': system,
    'messaging.destination.name': message.topic,
    'messaging.operation.type': operation,
    'messaging.operation.name': 'publish',
    'messaging.message.id': message.id,
    'messaging.message.conversation_id': message.headers['correlation-id'],
    'messaging.kafka.message.key': system === 'kafka' && message.key !== null ? message.key : undefined,
  });
  open.run(() => injectContext(message.headers as Record<string, string>));
  return open;
}
/**
 * The client span of prepared messages sent as they were built (the outbox relay, dead letters),
 * linked to the producer span each message carries. Each message keeps its own trace context.
 */
export function sendSpan(system: string, messages: readonly WireMessage[]): OpenSpan | undefined {
  if (!tracingEnabled()) return undefined;
  const first = messages[0];
  const single = messages.every((message) => message.topic === first?.topic);
  const links: TelemetryContext[] = [];
  for (const message of messages) {
    const context = message.headers.traceparent === undefined ? undefined : extractContext(message.headers);
    if (context !== undefined) links.push(context);
  }
  return startSpan(tracer, single && first !== undefined ? `send ${first.topic}` : 'send', {
    kind: 'client',
    // The relay runs on its own timer: its sends are not part of whatever span happens to be active.
    root: true,
    links,
    attributes: {
      'messaging.system': system,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.batch.message_count': messages.length,
      ...(single && first !== undefined ? { 'messaging.destination.name': first.topic } : {}),
    },
  });
}

/**
 * The consumer span of one delivery: a child of the producer's span (one trace from the request
 * that published the message to the handler's queries) and linked to it, as the conventions ask.
 */
export function processSpan(system: string, group: string, name: string, delivery: Delivery): OpenSpan | undefined {
  if (!tracingEnabled()) return undefined;
  const message = delivery.message;
  const producer = message.headers.traceparent === undefined ? undefined : extractContext(message.headers);
  const open = startSpan(
    tracer,
    name,
    producer === undefined ? consumerRoot : { kind: 'consumer', parent: producer, links: [producer] },
  );
  const span = open.span;
  if (span === undefined) return open;
  // Kafka deliveries know where they come from.
  const { partition, offset } = delivery as Partial<{ partition: number; offset: string }>;
  span.setAttributes({
    'messaging.system': system,
    'messaging.destination.name': message.topic,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.message.id': message.id,
    'messaging.message.conversation_id': message.headers['correlation-id'],
    'messaging.consumer.group.name': group,
    'messaging.message.delivery_count': delivery.deliveryCount,
    'messaging.destination.partition.id': partition === undefined ? undefined : String(partition),
    'messaging.kafka.offset': offset === undefined ? undefined : Number(offset),
    'messaging.kafka.message.key': system === 'kafka' && message.key !== null ? message.key : undefined,
  });
  return open;
}
