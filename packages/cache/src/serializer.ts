import { CacheError, UnserializableValueError } from './errors.js';

/** Turns values into text for storage and back. Must be deterministic and side-effect free. */
export interface Serializer {
  /** Throws (preferably an `UNSERIALIZABLE_VALUE` error) for a value it cannot store faithfully. */
  serialize(value: unknown): string;
  deserialize(payload: string): unknown;
}

/**
 * The tag a `Date` is stored under: `{"$infra:date":"2024-01-02T03:04:05.678Z"}`. An object whose
 * only key is this tag is read back as a `Date`, so the key is reserved.
 */
export const DATE_TAG = '$infra:date';

const rejected: readonly [new (...args: never[]) => object, string][] = [
  [Map, 'a Map (convert it with Object.fromEntries or [...map])'],
  [Set, 'a Set (convert it with [...set])'],
  [WeakMap, 'a WeakMap'],
  [WeakSet, 'a WeakSet'],
  [RegExp, 'a RegExp'],
  [Error, 'an Error'],
  [Promise, 'a Promise'],
];

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = key === '' ? value : (this as Record<string, unknown>)[key];
  const path = key === '' ? '$' : `"${key}"`;
  switch (typeof raw) {
    case 'bigint':
      throw new UnserializableValueError(path, 'a BigInt has no JSON form (store it as a string)');
    case 'function':
      throw new UnserializableValueError(path, 'a function cannot be cached');
    case 'symbol':
      throw new UnserializableValueError(path, 'a symbol cannot be cached');
    case 'number':
      if (!Number.isFinite(raw)) throw new UnserializableValueError(path, `${String(raw)} has no JSON form`);
      return value;
    case 'undefined':
      // A property set to undefined is dropped, as JSON does; an array hole would become null.
      if (Array.isArray(this)) throw new UnserializableValueError(path, 'undefined inside an array');
      return value;
    case 'object':
      if (raw === null) return value;
      if (raw instanceof Date) {
        if (Number.isNaN(raw.getTime())) throw new UnserializableValueError(path, 'an invalid Date');
        return { [DATE_TAG]: raw.toISOString() };
      }
      for (const [type, what] of rejected) {
        if (raw instanceof type) throw new UnserializableValueError(path, `${what} has no faithful JSON form`);
      }
      return value;
    default:
      return value;
  }
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const tagged = (value as Record<string, unknown>)[DATE_TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) return new Date(tagged);
  }
  return value;
}

/**
 * JSON with a faithful round trip for what JSON cannot say on its own:
 * - `Date` is stored tagged (see {@link DATE_TAG}) and read back as a `Date`.
 * - `BigInt`, functions, symbols, `NaN`/`Infinity`, `undefined` inside arrays, `Map`, `Set`,
 *   `RegExp`, `Error`, `Promise` and cycles are rejected with `UNSERIALIZABLE_VALUE` instead of
 *   being silently mangled. `undefined` as the whole value is rejected too: it means "miss".
 * - Objects with `toJSON` (e.g. `Buffer`, class instances) are stored as their JSON form and read
 *   back as plain data; prototypes are not kept.
 */
export const jsonSerializer: Serializer = {
  serialize(value: unknown): string {
    if (value === undefined) throw new UnserializableValueError('$', 'undefined means "miss" and cannot be stored');
    try {
      return JSON.stringify(value, replacer);
    } catch (error) {
      if (CacheError.isInstance(error)) throw error;
      const reason =
        error instanceof Error && /circular/i.test(error.message) ? 'a circular reference' : 'a JSON error';
      throw new UnserializableValueError('$', reason, error);
    }
  },
  deserialize(payload: string): unknown {
    // The reviver costs a call per node: only pay for it when a Date may be present.
    return payload.includes(DATE_TAG) ? JSON.parse(payload, reviver) : JSON.parse(payload);
  },
};
