import { InfraError, describeValue, errorFamily, invalidOptionClass, optionChecks } from '@infra/core';
import type { ErrorGuard, InvalidOptionClass, InvalidOptionErrorOf, OptionChecks } from '@infra/core';

/**
 * Error codes raised by @infra/cache. Identify errors by `code` (or with {@link isCacheError}),
 * never by `instanceof`: two copies of this package may be installed.
 */
export const CacheErrorCodes = {
  /** A key that is not a non-empty string. */
  INVALID_KEY: 'INVALID_KEY',
  /** A ttl (or grace) that is negative, NaN or not a number. */
  INVALID_TTL: 'INVALID_TTL',
  /** A value the serializer cannot turn into text faithfully (BigInt, cycle, function, ...). */
  UNSERIALIZABLE_VALUE: 'UNSERIALIZABLE_VALUE',
  /** A stored payload the serializer cannot read back. */
  DESERIALIZATION_FAILED: 'DESERIALIZATION_FAILED',
  /** A constructor or configuration option out of range or of the wrong type. */
  INVALID_OPTION: 'INVALID_OPTION',
  /** The backing store (Redis) cannot be reached, or its circuit breaker is open. */
  CACHE_UNAVAILABLE: 'CACHE_UNAVAILABLE',
  /** A `getOrSet` loader ran past its hard timeout and no stale value could be served. */
  LOADER_TIMEOUT: 'LOADER_TIMEOUT',
  /** The cache was used after `close()`. */
  CACHE_CLOSED: 'CACHE_CLOSED',
  /** An optional peer dependency (ioredis) is needed but not installed. */
  MISSING_PEER: 'MISSING_PEER',
} as const;

export type CacheErrorCode = (typeof CacheErrorCodes)[keyof typeof CacheErrorCodes];

/** Base class of every error this package throws on its own account. */
export class CacheError extends InfraError<CacheErrorCode> {}

/** The class of each code that has one, for the narrowing of {@link isCacheError}. */
export interface CacheErrorsByCode {
  INVALID_KEY: InvalidKeyError;
  INVALID_TTL: InvalidTtlError;
  UNSERIALIZABLE_VALUE: UnserializableValueError;
  INVALID_OPTION: InvalidCacheOptionError;
  CACHE_UNAVAILABLE: CacheUnavailableError;
  LOADER_TIMEOUT: LoaderTimeoutError;
}

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
