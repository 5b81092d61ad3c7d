import { MessagingError, describeValue, errorMessage } from './errors.js';

/** Turns payloads into bytes and back. The bus calls it once per publish and once per delivery. */
export interface Serializer {
  /** Sent as the `content-type` header of every message. */
  readonly contentType: string;
  /** Throws when `payload` cannot be represented; the bus reports `SERIALIZATION_FAILED`. */
  serialize(payload: unknown): string | Uint8Array;
  deserialize(data: string | Uint8Array): unknown;
}

const decoder = new TextDecoder();

function strict(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new TypeError(`${key === '' ? 'the payload' : `"${key}"`} is ${describeValue(value)}, which JSON cannot represent`);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${key === '' ? 'the payload' : `"${key}"`} is ${String(value)}, which JSON cannot represent`);
      return value;
    default:
      return value;
  }
}

/**
 * JSON, strictly: functions, symbols, BigInts, NaN/Infinity and circular structures are refused
 * instead of being silently dropped or turned into `null` (the consumer would get another
 * message than the one published). Properties whose value is `undefined` are left out, as in
 * JSON; Dates become ISO strings.
 */
export const jsonSerializer: Serializer = {
  contentType: 'application/json',
  serialize(payload: unknown): string {
    if (payload === undefined) throw new TypeError('the payload is undefined, which JSON cannot represent');
    return JSON.stringify(payload, strict);
  },
  deserialize(data: string | Uint8Array): unknown {
    return JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  },
};

/** Serializes with `serializer`, turning its failure into a coded error that names the topic. */
export function serializePayload(serializer: Serializer, topic: string, payload: unknown): string | Uint8Array {
  let body: unknown;
  try {
    body = serializer.serialize(payload);
  } catch (error) {
    throw new MessagingError('SERIALIZATION_FAILED', `Payload of "${topic}" cannot be serialized (${serializer.contentType}): ${errorMessage(error)}`, {
      topic,
      cause: error,
    });
  }
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new MessagingError('SERIALIZATION_FAILED', `Serializer returned ${describeValue(body)} for "${topic}": expected a string or a Uint8Array`, { topic });
  }
  return body;
}
