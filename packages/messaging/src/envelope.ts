import type { WireMessage } from './adapter.js';
import { messageContextStore } from './context.js';
import { InvalidOptionError } from './errors.js';
import { randomUuid } from './random-ids.js';
import { serializePayload, type Serializer } from './serializer.js';
import { headerMap, nonEmptyString, plainObject, topicName } from './validate.js';

/** Header names the bus sets or reads. */
export const MessageHeaders = {
  CORRELATION_ID: 'correlation-id',
  TRACEPARENT: 'traceparent',
  TRACESTATE: 'tracestate',
  CONTENT_TYPE: 'content-type',
  /** Why a message was dead-lettered: `handler`, `validation` or `deserialization`. */
  DEAD_LETTER_REASON: 'x-dead-letter-reason',
  ERROR: 'x-error',
  ERROR_CODE: 'x-error-code',
  /** Handler attempts made before the message was dead-lettered (0: the handler never ran). */
  ATTEMPTS: 'x-attempts',
  ORIGINAL_TOPIC: 'x-original-topic',
  CONSUMER_GROUP: 'x-consumer-group',
  FAILED_AT: 'x-failed-at',
} as const;

/** A message as handlers see it. */
export interface MessageEnvelope<T = unknown> {
  /** Unique id, kept across redeliveries and dead-lettering: what idempotent consumers dedupe on. */
  readonly id: string;
  readonly topic: string;
  /** Ordering / partition key; `null` for none. */
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** When the message was published, in ms since the epoch. */
  readonly timestamp: number;
  readonly payload: T;
}

export interface PublishOptions {
  /** Ordering / partition key: messages with one key are handled in publish order. @default null */
  key?: string;
  /** String headers sent with the message. @default {} */
  headers?: Record<string, string>;
  /** Message id; set it to make a republish of the same message recognisable. @default a random UUID */
  id?: string;
  /** Publish time. @default now */
  timestamp?: number | Date;
  /** Correlation id. @default the ambient context's, else the message's own id (it starts a chain) */
  correlationId?: string;
}

/** What `publish` resolves with. */
export interface PublishedMessage {
  readonly id: string;
  readonly topic: string;
  readonly key: string | null;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Builds the wire form of a message: validates topic and options, serializes the payload, and
 * adds the correlation id from the options, the given headers, or the ambient context (in that
 * order). Trace headers given or received are kept; no span id is made up here.
 */
export function buildMessage(
  topic: string,
  payload: unknown,
  options: PublishOptions | undefined,
  serializer: Serializer,
): WireMessage {
  topicName('topic', topic);
  const settings =
    options === undefined ? noOptions : (plainObject('options', options, 'INVALID_ARGUMENT') as PublishOptions);
  const key =
    settings.key === undefined || (settings.key as unknown) === null
      ? null
      : nonEmptyString('key', settings.key, 'INVALID_ARGUMENT');
  const given = settings.headers === undefined ? undefined : headerMap('headers', settings.headers);
  const timestamp = toTimestamp(settings.timestamp);
  const body = serializePayload(serializer, topic, payload);
  const id = settings.id === undefined ? randomUuid() : nonEmptyString('id', settings.id, 'INVALID_ARGUMENT');
  const context = messageContextStore();
  const correlationId =
    settings.correlationId === undefined
      ? (given?.[MessageHeaders.CORRELATION_ID] ?? context?.correlationId ?? id)
      : nonEmptyString('correlationId', settings.correlationId, 'INVALID_ARGUMENT');
  const headers: Record<string, string> = { ...given };
  headers[MessageHeaders.CORRELATION_ID] = correlationId;
  // The trace context as received (given headers, or the message being handled); the bus replaces
  // it with its producer span's context when an OpenTelemetry SDK records one.
  if (given?.[MessageHeaders.TRACEPARENT] === undefined && context?.traceparent !== undefined) {
    headers[MessageHeaders.TRACEPARENT] = context.traceparent;
    if (context.tracestate !== undefined) headers[MessageHeaders.TRACESTATE] = context.tracestate;
  }
  headers[MessageHeaders.CONTENT_TYPE] ??= serializer.contentType;
  return { id, topic, key, headers, timestamp, body };
}

const noOptions: PublishOptions = Object.freeze({});

function toTimestamp(value: number | Date | undefined): number {
  if (value === undefined) return Date.now();
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidOptionError('timestamp', value, 'a Date or milliseconds since the epoch', 'INVALID_ARGUMENT');
  }
  return ms;
}
