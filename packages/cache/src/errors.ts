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

const marker = Symbol.for('@infra/cache.error');

interface ErrorInit {
  cause?: unknown;
  isRetryable?: boolean;
}

/** Base class of every error this package throws on its own account. */
export class CacheError extends Error {
  readonly code: CacheErrorCode;
  readonly isRetryable: boolean;

  constructor(code: CacheErrorCode, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'CacheError';
    this.code = code;
    this.isRetryable = init.isRetryable ?? false;
  }

  /** True for any error created by any copy of @infra/cache. */
  static isInstance(error: unknown): error is CacheError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(CacheError.prototype, marker, { value: true });

/** True when `error` comes from @infra/cache (any installed copy), optionally with the given code. */
export function isCacheError<C extends CacheErrorCode>(error: unknown, code?: C): error is CacheError & { code: C } {
  return CacheError.isInstance(error) && (code === undefined || error.code === code);
}

/** Thrown for a key that is not a non-empty string. */
export class InvalidKeyError extends CacheError {
  readonly key: unknown;

  constructor(key: unknown, what = 'key') {
    super('INVALID_KEY', `Invalid cache ${what}: expected a non-empty string, got ${describe(key)}`);
    this.name = 'InvalidKeyError';
    this.key = key;
  }
}

/** Thrown for a ttl or grace period that is not a finite number >= 0 (seconds). */
export class InvalidTtlError extends CacheError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown) {
    super('INVALID_TTL', `Invalid "${option}": expected a finite number of seconds >= 0, got ${describe(value)}`);
    this.name = 'InvalidTtlError';
    this.option = option;
    this.value = value;
  }
}

/** Thrown when a value cannot be serialized faithfully; nothing is written. */
export class UnserializableValueError extends CacheError {
  /** Path of the offending value inside the cached value (`$` is the value itself). */
  readonly path: string;

  constructor(path: string, reason: string, cause?: unknown) {
    super('UNSERIALIZABLE_VALUE', `Cannot cache the value: ${reason} at ${path}`, { cause });
    this.name = 'UnserializableValueError';
    this.path = path;
  }
}

/** Thrown at construction when an option is out of range or of the wrong type. */
export class InvalidCacheOptionError extends CacheError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', `Invalid option "${option}": expected ${expected}, got ${describe(value)}`);
    this.name = 'InvalidCacheOptionError';
    this.option = option;
    this.value = value;
  }
}

/** The store cannot be reached; reads fall back to misses unless `failOpen` is off. */
export class CacheUnavailableError extends CacheError {
  readonly cache: string;

  constructor(cache: string, reason: string, cause?: unknown) {
    super('CACHE_UNAVAILABLE', `Cache "${cache}" is unavailable: ${reason}`, { cause, isRetryable: true });
    this.name = 'CacheUnavailableError';
    this.cache = cache;
  }
}

/** A `getOrSet` loader exceeded its hard timeout. */
export class LoaderTimeoutError extends CacheError {
  readonly key: string;
  readonly timeoutMs: number;

  constructor(key: string, timeoutMs: number) {
    super('LOADER_TIMEOUT', `Loader for "${key}" timed out after ${timeoutMs} ms`, { isRetryable: true });
    this.name = 'LoaderTimeoutError';
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${String(value)}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
}
