import { CacheError, InvalidCacheOptionError, InvalidKeyError, InvalidTtlError } from './errors.js';
import type { CacheEntryInput, SetOptions } from './types.js';

/** Longest key accepted: Redis allows more, but a key this long is a bug, not a cache key. */
const MAX_KEY_LENGTH = 4096;

export function assertKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) throw new InvalidKeyError(key, what);
  return key;
}

/** Seconds (finite, >= 0) to milliseconds; `undefined` stays undefined. 0 means "no expiry". */
export function ttlMs(option: string, seconds: unknown): number | undefined {
  if (seconds === undefined) return undefined;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
    throw new InvalidTtlError(option, seconds);
  return Math.round(seconds * 1000);
}

export function assertTags(tags: unknown): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags)) throw new InvalidCacheOptionError('tags', tags, 'an array of non-empty strings');
  for (const tag of tags) assertKey(tag, 'tag');
  return tags as string[];
}

export function nonNegative(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidCacheOptionError(option, value, 'a finite number >= 0');
  }
  return value;
}

export function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidCacheOptionError(option, value, 'an integer >= 1');
  }
  return value;
}

export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidCacheOptionError(option, value, 'a non-empty string');
  }
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidCacheOptionError(option, value, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as T;
}

export function optionalBoolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidCacheOptionError(option, value, 'a boolean');
  return value;
}

/** The per-entry options of a `setMany` entry, without its key and value. */
export function definedOf(entry: CacheEntryInput): SetOptions {
  const options: SetOptions = {};
  if (entry.ttl !== undefined) options.ttl = entry.ttl;
  if (entry.grace !== undefined) options.grace = entry.grace;
  if (entry.tags !== undefined) options.tags = entry.tags;
  return options;
}

/** By-reference stores keep the value itself; `undefined` would still read as a miss. */
export function checkReference(value: unknown): unknown {
  if (value === undefined) {
    throw new CacheError('UNSERIALIZABLE_VALUE', 'Cannot cache the value: undefined means "miss" and cannot be stored');
  }
  return value;
}
