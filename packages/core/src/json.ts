import { InfraError, describeValue } from './errors.js';

/**
 * How {@link stringifyStrict} writes a `Date`:
 * - `iso`: as its ISO string, as `JSON.stringify` does. Read back as a string. For data that other
 *   programs read (messages).
 * - `tagged`: as `{"$infra:date":"2024-01-02T03:04:05.678Z"}`, read back by {@link parseStrict} as
 *   a `Date`. For data this library writes and reads itself (cache entries).
 */
export type JsonDates = 'iso' | 'tagged';

export interface StrictJsonOptions {
  /** @default 'iso' */
  dates?: JsonDates;
}

/** The key under which `dates: 'tagged'` stores a Date; an object whose only key it is reads back as a Date. */
export const DATE_TAG = '$infra:date';

/** A value that JSON cannot carry faithfully. `path` names where it sits (`$` is the value itself). */
export class UnrepresentableValueError extends InfraError<'UNREPRESENTABLE_VALUE'> {
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string, cause?: unknown) {
    super('UNREPRESENTABLE_VALUE', `${reason} at ${path} has no faithful JSON form`, { cause });
    this.path = path;
    this.reason = reason;
  }
}

const refusedObjects: readonly [new (...args: never[]) => object, string][] = [
  [Map, 'a Map (convert it with Object.fromEntries or [...map])'],
  [Set, 'a Set (convert it with [...set])'],
  [WeakMap, 'a WeakMap'],
  [WeakSet, 'a WeakSet'],
  [RegExp, 'a RegExp'],
  [Error, 'an Error'],
  [Promise, 'a Promise'],
];

function replacerFor(dates: JsonDates) {
  return function strict(this: unknown, key: string, value: unknown): unknown {
    // `value` went through toJSON already; `raw` is what the caller put there.
    const raw = key === '' ? value : (this as Record<string, unknown>)[key];
    const path = key === '' ? '$' : JSON.stringify(key);
    switch (typeof raw) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (!Number.isFinite(raw)) throw new UnrepresentableValueError(path, String(raw));
        return value;
      case 'undefined':
        // A property set to undefined is left out, as JSON does; in an array it would become null.
        if (key === '' || Array.isArray(this)) throw new UnrepresentableValueError(path, 'undefined');
        return value;
      case 'object': {
        if (raw === null) return value;
        if (raw instanceof Date) {
          if (Number.isNaN(raw.getTime())) throw new UnrepresentableValueError(path, 'an invalid Date');
          return dates === 'tagged' ? { [DATE_TAG]: raw.toISOString() } : value;
        }
        for (const [type, what] of refusedObjects) {
          if (raw instanceof type) throw new UnrepresentableValueError(path, what);
        }
        return value;
      }
      default:
        // bigint, function, symbol: JSON would throw a vague error or drop the value silently.
        throw new UnrepresentableValueError(path, describeValue(raw));
    }
  };
}

const replacers: Record<JsonDates, (this: unknown, key: string, value: unknown) => unknown> = {
  iso: replacerFor('iso'),
  tagged: replacerFor('tagged'),
};

/**
 * `JSON.stringify`, strictly: whatever JSON would drop or change (functions, symbols, BigInts,
 * NaN and Infinity, `undefined` in arrays, Maps, Sets, RegExps, Errors, invalid Dates, cycles) is
 * refused with {@link UnrepresentableValueError} instead, so that what is read back is what was
 * written. Properties set to `undefined` are left out, as in JSON.
 */
export function stringifyStrict(value: unknown, options: StrictJsonOptions = {}): string {
  try {
    return JSON.stringify(value, replacers[options.dates ?? 'iso']);
  } catch (error) {
    if (error instanceof UnrepresentableValueError) throw error;
    const circular = error instanceof TypeError && /circular/i.test(error.message);
    throw new UnrepresentableValueError('$', circular ? 'a circular reference' : 'a value', error);
  }
}

function reviveDates(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const tagged = (value as Record<string, unknown>)[DATE_TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) return new Date(tagged);
  }
  return value;
}

/** `JSON.parse`, reading tagged Dates back as Dates with `dates: 'tagged'`. */
export function parseStrict(text: string, options: StrictJsonOptions = {}): unknown {
  return options.dates === 'tagged' && text.includes(DATE_TAG) ? JSON.parse(text, reviveDates) : JSON.parse(text);
}
