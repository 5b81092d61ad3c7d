import { InvalidCacheOptionError, InvalidKeyError, InvalidTtlError } from './errors.js';

/** Longest key accepted: Redis allows more, but a key this long is a bug, not a cache key. */
const MAX_KEY_LENGTH = 4096;

/** A key (or tag): a non-empty string of at most 4096 characters. */
export function assertKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) throw new InvalidKeyError(key, what);
  return key;
}

/** Seconds (finite, >= 0) to milliseconds; `undefined` stays undefined. 0 means "no expiry". */
export function ttlMs(option: string, seconds: unknown): number | undefined {
  if (seconds === undefined) return undefined;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidTtlError(option, seconds);
  }
  return Math.round(seconds * 1000);
}

/** Tags of a write: an array of keys, or undefined. */
export function assertTags(tags: unknown): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags)) throw new InvalidCacheOptionError('tags', tags, 'an array of non-empty strings');
  for (const tag of tags) assertKey(tag, 'tag');
  return tags as string[];
}
