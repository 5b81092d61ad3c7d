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

function refuse(key: string, what: string): never {
  throw new TypeError(`${key === '' ? 'the payload' : `"${key}"`} is ${what}, which JSON cannot represent`);
}

/** Nesting beyond which the walk gives up and the slower replacer pass takes over (it also catches cycles). */
const MAX_WALK_DEPTH = 64;

/**
 * Finds in one walk what JSON.stringify would silently change: functions and symbols (dropped),
 * NaN and Infinity (turned into null); and BigInts, which it would refuse with a vaguer message.
 * An object with `toJSON` (a Date) is left to JSON. Returns false when the value nests deeper than
 * the walk goes (a cycle, perhaps): the caller then checks with the replacer.
 */
function walk(value: unknown, key: string, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value) || refuse(key, String(value));
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_WALK_DEPTH) return false;
      if (Array.isArray(value)) {
        const items = value as unknown[];
        for (let i = 0; i < items.length; i++) if (!walk(items[i], key, depth + 1)) return false;
        return true;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
      // Object.keys: the own enumerable string keys, which are exactly what JSON.stringify writes.
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      for (let i = 0; i < keys.length; i++) {
        const name = keys[i] as string;
        if (!walk(record[name], name, depth + 1)) return false;
      }
      return true;
    }
    default:
      return refuse(key, describeValue(value));
  }
}

/** The per-value check, for what the walk could not finish. */
function strict(this: unknown, key: string, value: unknown): unknown {
  if (typeof value !== 'object') walk(value, key, 0);
  return value;
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
    // A walk plus a plain stringify costs about half of a replacer called for every value.
    return walk(payload, '', 0) ? JSON.stringify(payload) : JSON.stringify(payload, strict);
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
