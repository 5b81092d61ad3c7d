import type { Msg, MsgHdrs } from '@nats-io/transport-node';
import type { WireMessage } from '../adapter.js';
import { MessageHeaders } from '../envelope.js';

/** Header holding the rest of the envelope (key, timestamp, headers) as JSON: one header, any header value. */
export const ENVELOPE_HEADER = 'Infra-Envelope';
/** JetStream drops a message whose id it stored within the stream's duplicate window. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

interface EnvelopeFields {
  /** key */
  k: string | null;
  /** timestamp */
  t: number;
  /** headers */
  h: Readonly<Record<string, string>>;
  /** 1 when the body was bytes (else it was text) */
  b?: 1;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The `Nats-Msg-Id` of a message: its id. A dead letter keeps the id of the message it carries, so
 * that a redelivered message dead-lettered twice is stored once; the failing group is added, so
 * that two groups that each dead-letter one message keep both letters in the one dead-letter stream.
 */
export function publishId(message: WireMessage): string {
  const group = message.headers[MessageHeaders.CONSUMER_GROUP];
  return message.headers[MessageHeaders.ORIGINAL_TOPIC] !== undefined && group !== undefined
    ? `${message.id}@${group}`
    : message.id;
}

/** Headers and data of the NATS message that carries `message`. */
export function encodeMessage(message: WireMessage, headers: MsgHdrs): Uint8Array {
  const fields: EnvelopeFields = { k: message.key, t: message.timestamp, h: message.headers };
  if (typeof message.body !== 'string') fields.b = 1;
  headers.set(ENVELOPE_HEADER, JSON.stringify(fields));
  return typeof message.body === 'string' ? encoder.encode(message.body) : message.body;
}

/** What JetStream tells about one delivery in its reply subject. */
export interface AckInfo {
  /** Where acks go (`$JS.ACK.…`). */
  reply: string;
  streamSequence: number;
  /** Times JetStream delivered the message to the group, this one included. */
  deliveryCount: number;
  /** Publish time in ms (JetStream's own clock). */
  storedAt: number;
}

/**
 * Reads the reply subject of a JetStream delivery: `$JS.ACK.<stream>.<consumer>.<delivered>.<stream
 * seq>.<consumer seq>.<ns>.<pending>`, or the longer form with a domain and an account hash first.
 */
export function ackInfo(reply: string | undefined): AckInfo | undefined {
  if (reply?.startsWith('$JS.ACK.') !== true) return undefined;
  const tokens = reply.split('.');
  const first = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1;
  if (first < 0) return undefined;
  const deliveryCount = Number(tokens[first]);
  const streamSequence = Number(tokens[first + 1]);
  const storedAt = Math.floor(Number(tokens[first + 3]) / 1e6);
  if (!Number.isFinite(deliveryCount) || !Number.isFinite(streamSequence)) return undefined;
  return { reply, streamSequence, deliveryCount, storedAt };
}

/**
 * The wire message carried by a JetStream delivery. A message published by another NATS client
 * (no envelope header) still arrives: its id is its `Nats-Msg-Id` or its stream sequence.
 */
export function decodeMessage(topic: string, msg: Msg, info: AckInfo): WireMessage {
  const raw = msg.headers?.get(ENVELOPE_HEADER);
  const id = msg.headers?.get(MSG_ID_HEADER) || `${topic}:${String(info.streamSequence)}`;
  let fields: EnvelopeFields | undefined;
  if (raw) {
    try {
      fields = JSON.parse(raw) as EnvelopeFields;
    } catch {
      fields = undefined;
    }
  }
  if (fields === undefined) {
    return { id, topic, key: null, headers: {}, timestamp: info.storedAt, body: msg.data };
  }
  return {
    // A dead letter's publish id has the group appended; its message id is the original one.
    id: originalId(id, fields.h),
    topic,
    key: fields.k,
    headers: fields.h,
    timestamp: fields.t,
    body: fields.b === 1 ? msg.data : decoder.decode(msg.data),
  };
}

function originalId(id: string, headers: Readonly<Record<string, string>>): string {
  const group = headers[MessageHeaders.CONSUMER_GROUP];
  const suffix = `@${group ?? ''}`;
  return headers[MessageHeaders.ORIGINAL_TOPIC] !== undefined && group !== undefined && id.endsWith(suffix)
    ? id.slice(0, -suffix.length)
    : id;
}
