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

/** Nesting beyond which the walk gives up and the replacer pass takes over (it also catches cycles). */
const MAX_WALK_DEPTH = 64;

/** A value JSON.stringify writes as it is: a string, a boolean, a finite number, null or undefined (left out). */
function plain(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    default:
      return value === null;
  }
}

/**
 * Whether JSON.stringify would write `value` without changing it: no functions or symbols (it
 * would drop them), no NaN or Infinity (it would write null), no BigInt (it would throw a vague
 * error). An object with `toJSON` (a Date) is left to JSON. `false` means "not proven": something
 * is wrong, or the value nests deeper than the walk goes (a cycle, perhaps); the replacer pass
 * then decides, and names the culprit. The walk uses `for...in`, which costs no allocation but
 * also visits inherited enumerable keys; a false alarm from one only sends the payload to the
 * replacer pass, which sees exactly what JSON writes.
 */
function walk(value: object, depth: number): boolean {
  if (depth >= MAX_WALK_DEPTH) return false;
  if (Array.isArray(value)) {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (typeof item === 'object' && item !== null ? !walk(item, depth + 1) : !plain(item)) return false;
    }
    return true;
  }
  // Only an object with a prototype of its own (a Date, a class instance) is asked for toJSON: on a
  // plain object the lookup is a miss up the chain, which costs more than the rest of the walk. A
  // plain object's own toJSON is a function, which the loop below sends to the replacer pass.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return true;
  const record = value as Record<string, unknown>;
  for (const name in record) {
    const item = record[name];
    if (typeof item === 'object' && item !== null ? !walk(item, depth + 1) : !plain(item)) return false;
  }
  return true;
}

/** The per-value check of the replacer pass: refuses what JSON would change, naming the key. */
function strict(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'object' || plain(value)) return value;
  throw new TypeError(
    `${key === '' ? 'the payload' : `"${key}"`} is ${describeValue(value)}, which JSON cannot represent`,
  );
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
    const proven = typeof payload === 'object' && payload !== null ? walk(payload, 0) : plain(payload);
    return proven ? JSON.stringify(payload) : JSON.stringify(payload, strict);
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
    throw new MessagingError(
      'SERIALIZATION_FAILED',
      `Payload of "${topic}" cannot be serialized (${serializer.contentType}): ${errorMessage(error)}`,
      {
        topic,
        cause: error,
      },
    );
  }
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new MessagingError(
      'SERIALIZATION_FAILED',
      `Serializer returned ${describeValue(body)} for "${topic}": expected a string or a Uint8Array`,
      { topic },
    );
  }
  return body;
}
