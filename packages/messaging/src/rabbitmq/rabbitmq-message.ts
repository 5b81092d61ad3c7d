import type { Message, Options } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { WireMessage } from '../adapter.js';

/**
 * The envelope fields AMQP has no property for travel as headers beside the message's own:
 * the key, and the publish time in milliseconds (the AMQP `timestamp` property holds seconds, and is
 * set too for other readers).
 */
const KEY = 'x-infra-key';
const TIMESTAMP = 'x-infra-timestamp';
/** Headers RabbitMQ adds (delivery counts, dead-lettering history): not the message's own. */
const BROKER_HEADER = /^x-(delivery-count|death|first-death-|last-death-)/;

/**
 * The content and properties of a `basic.publish` of `message`; persistent, so that durable queues
 * keep it across a restart.
 */
export function publishArguments(message: WireMessage): { content: Buffer; options: Options.Publish } {
  const body = message.body;
  const content =
    typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const headers: Record<string, string> = { ...message.headers, [TIMESTAMP]: String(message.timestamp) };
  if (message.key !== null) headers[KEY] = message.key;
  return {
    content,
    options: {
      persistent: true,
      messageId: message.id,
      timestamp: Math.floor(message.timestamp / 1000),
      headers,
    },
  };
}

/** The wire message a delivery carries (defaults for what a message published by another program lacks). */
export function wireMessage(topic: string, delivered: Message): WireMessage {
  const { properties } = delivered;
  const raw = (properties.headers ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  for (const name in raw) {
    if (name === KEY || name === TIMESTAMP || (name.startsWith('x-') && BROKER_HEADER.test(name))) continue;
    const value = raw[name];
    if (typeof value === 'string') headers[name] = value;
    else if (Buffer.isBuffer(value)) headers[name] = value.toString();
  }
  const key = raw[KEY];
  const millis = Number(raw[TIMESTAMP]);
  const seconds = Number(properties.timestamp);
  return {
    id: typeof properties.messageId === 'string' ? properties.messageId : randomUUID(),
    topic,
    key: typeof key === 'string' ? key : null,
    headers,
    timestamp: Number.isFinite(millis) ? millis : Number.isFinite(seconds) ? seconds * 1000 : Date.now(),
    body: delivered.content,
  };
}

/**
 * How many times the message was delivered, this time included: a quorum queue counts the earlier
 * deliveries that were not acknowledged in `x-delivery-count`; a classic queue only says whether
 * there was one (`redelivered`).
 */
export function deliveryCount(delivered: Message): number {
  const counted = Number(delivered.properties.headers?.['x-delivery-count']);
  const fromCount = Number.isInteger(counted) && counted >= 0 ? counted + 1 : 1;
  return Math.max(fromCount, delivered.fields.redelivered ? 2 : 1);
}
