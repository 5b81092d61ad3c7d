import { DATE_TAG, parseStrict, stringifyStrict, type UnrepresentableValueError } from '@infra/core';
import { UnserializableValueError } from './errors.js';

/**
 * The key under which a `Date` is stored: `{"$infra:date":"2024-01-02T03:04:05.678Z"}`. An object
 * whose only key is this tag is read back as a `Date`, so the key is reserved.
 */
export { DATE_TAG };

/** Turns values into text for storage and back. Must be deterministic and side-effect free. */
export interface Serializer {
  /** Throws (preferably an `UNSERIALIZABLE_VALUE` error) for a value it cannot store faithfully. */
  serialize(value: unknown): string;
  deserialize(payload: string): unknown;
}

/**
 * The strict JSON of `@infra/core`, with a faithful round trip for what JSON cannot say on its own:
 * - `Date` is stored tagged (see {@link DATE_TAG}) and read back as a `Date`.
 * - `BigInt`, functions, symbols, `NaN`/`Infinity`, `undefined` inside arrays, `Map`, `Set`,
 *   `RegExp`, `Error`, `Promise`, invalid Dates and cycles are rejected with `UNSERIALIZABLE_VALUE`
 *   (naming where the value sits) instead of being silently mangled. `undefined` as the whole
 *   value is rejected too: it means "miss".
 * - Objects with `toJSON` (e.g. `Buffer`, class instances) are stored as their JSON form and read
 *   back as plain data; prototypes are not kept.
 */
export const jsonSerializer: Serializer = {
  serialize(value: unknown): string {
    if (value === undefined) throw new UnserializableValueError('$', 'undefined means "miss" and cannot be stored');
    try {
      return stringifyStrict(value, { dates: 'tagged' });
    } catch (error) {
      if (!isUnrepresentable(error)) throw error;
      throw new UnserializableValueError(error.path, `${error.reason} has no faithful JSON form`, error);
    }
  },
  deserialize(payload: string): unknown {
    return parseStrict(payload, { dates: 'tagged' });
  },
};

function isUnrepresentable(error: unknown): error is UnrepresentableValueError {
  return (error as { code?: unknown } | null)?.code === 'UNREPRESENTABLE_VALUE';
}
