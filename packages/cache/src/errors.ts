import { InfraError, describeValue, errorCodes, errorFamily, invalidOptionClass, optionChecks } from '@infra/core';
import type { ErrorCodeMap, ErrorGuard, InvalidOptionClass, InvalidOptionErrorOf, OptionChecks } from '@infra/core';

const codes = [
  'INVALID_KEY',
  'INVALID_TTL',
  'UNSERIALIZABLE_VALUE',
  'DESERIALIZATION_FAILED',
  'INVALID_OPTION',
  'CACHE_UNAVAILABLE',
  'LOADER_TIMEOUT',
  'CACHE_CLOSED',
  'MISSING_PEER',
] as const;

/** The `code` of an error of this package. */
export type CacheErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/cache. Identify errors by `code` (or with {@link isCacheError}),
 * never by `instanceof`: two copies of this package may be installed.
 *
 * - `INVALID_KEY`: a key that is not a non-empty string.
 * - `INVALID_TTL`: a ttl (or grace) that is negative, NaN or not a number.
 * - `UNSERIALIZABLE_VALUE`: a value the serializer cannot turn into text faithfully (BigInt,
 *   cycle, function, ...).
 * - `DESERIALIZATION_FAILED`: a stored payload the serializer cannot read back.
 * - `INVALID_OPTION`: a constructor or configuration option out of range or of the wrong type.
 * - `CACHE_UNAVAILABLE`: the backing store (Redis) cannot be reached, or its circuit breaker is
 *   open.
 * - `LOADER_TIMEOUT`: a `getOrSet` loader ran past its hard timeout and no stale value could be
 *   served.
 * - `CACHE_CLOSED`: the cache was used after `close()`.
 * - `MISSING_PEER`: an optional peer dependency (ioredis) is needed but not installed.
 */
export const CacheErrorCodes: ErrorCodeMap<CacheErrorCode> = errorCodes(codes);

/** Base class of every error this package throws on its own account. */
export class CacheError extends InfraError<CacheErrorCode> {}

/**
 * True when `error` comes from @infra/cache (any installed copy), optionally with the given code;
 * with a code, narrows to that code's class (`UNSERIALIZABLE_VALUE` → {@link UnserializableValueError}).
 */
export const isCacheError: ErrorGuard<CacheError, CacheErrorsByCode> = errorFamily(CacheError, '@infra/cache').is;

/** Thrown for a key (or tag) that is not a non-empty string of at most 4096 characters. */
export class InvalidKeyError extends CacheError {
  readonly key: unknown;

  constructor(key: unknown, what = 'key') {
    super('INVALID_KEY', `Invalid cache ${what}: expected a non-empty string, got ${describeValue(key)}`);
    this.key = key;
  }
}

/** Thrown for a ttl or grace period that is not a finite number >= 0 (seconds). */
export class InvalidTtlError extends CacheError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown) {
    super('INVALID_TTL', `Invalid "${option}": expected a finite number of seconds >= 0, got ${describeValue(value)}`);
    this.option = option;
    this.value = value;
  }
}

/** Thrown when a value cannot be serialized faithfully; nothing is written. */
export class UnserializableValueError extends CacheError {
  /** Where the offending value sits: its property name, or `$` for the value itself. */
  readonly path: string;

  constructor(path: string, reason: string, cause?: unknown) {
    super('UNSERIALIZABLE_VALUE', `Cannot cache the value at ${path}: ${reason}`, { cause });
    this.path = path;
  }
}

/** Thrown at construction when an option is out of range or of the wrong type (`option` names it). */
export const InvalidCacheOptionError: InvalidOptionClass<CacheError> = invalidOptionClass(
  CacheError,
  'InvalidCacheOptionError',
);
/** An error made by {@link InvalidCacheOptionError}: a `CacheError` with `option` and `value`. */
export type InvalidCacheOptionError = InvalidOptionErrorOf<CacheError>;

/** The store cannot be reached; reads fall back to misses unless `failOpen` is off. */
export class CacheUnavailableError extends CacheError {
  readonly cache: string;

  constructor(cache: string, reason: string, cause?: unknown) {
    super('CACHE_UNAVAILABLE', `Cache "${cache}" is unavailable: ${reason}`, { cause, isRetryable: true });
    this.cache = cache;
  }
}

/** A `getOrSet` loader exceeded its hard timeout. */
export class LoaderTimeoutError extends CacheError {
  readonly key: string;
  readonly timeoutMs: number;

  constructor(key: string, timeoutMs: number) {
    super('LOADER_TIMEOUT', `Loader for "${key}" timed out after ${timeoutMs} ms`, { isRetryable: true });
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

/** The error of a cache used after `close()`. */
export function cacheClosed(cache: string, what = 'is closed'): CacheError {
  return new CacheError('CACHE_CLOSED', `Cache "${cache}" ${what}`);
}

/** Checks of options and arguments, throwing {@link InvalidCacheOptionError}. */
export const check: OptionChecks = optionChecks(InvalidCacheOptionError);

/** The class of each code that has one, for the narrowing of {@link isCacheError}. */
export interface CacheErrorsByCode {
  INVALID_KEY: InvalidKeyError;
  INVALID_TTL: InvalidTtlError;
  UNSERIALIZABLE_VALUE: UnserializableValueError;
  INVALID_OPTION: InvalidCacheOptionError;
  CACHE_UNAVAILABLE: CacheUnavailableError;
  LOADER_TIMEOUT: LoaderTimeoutError;
}
