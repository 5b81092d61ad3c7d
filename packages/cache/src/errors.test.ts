import { errorFamilyOf, isRetryable } from '@infra/core';
import { describe, expect, it } from 'vitest';
import { CacheUnavailableError, InvalidKeyError, UnserializableValueError, isCacheError } from './errors.js';
import { InMemoryCacheService } from './memory-cache.js';

describe('cache errors', () => {
  it('belong to the @infra/cache family and narrow by code', async () => {
    const cache = new InMemoryCacheService('errors');
    const error: unknown = await cache.set('k', 1n).catch((caught: unknown) => caught);
    expect(errorFamilyOf(error)).toBe('@infra/cache');
    expect(isCacheError(error)).toBe(true);
    expect(isCacheError(error, 'INVALID_KEY')).toBe(false);
    if (!isCacheError(error, 'UNSERIALIZABLE_VALUE')) throw new Error('expected UNSERIALIZABLE_VALUE');
    // Narrowed to UnserializableValueError: its path is typed.
    expect(error.path).toBe('$');
    expect(error).toBeInstanceOf(UnserializableValueError);
    expect(error.name).toBe('UnserializableValueError');
    await cache.close();
  });

  it('say what was wrong and whether a retry may help', () => {
    const key = new InvalidKeyError(42);
    expect(key.message).toBe('Invalid cache key: expected a non-empty string, got 42');
    expect(isRetryable(key)).toBe(false);
    const down = new CacheUnavailableError('c', 'Redis connection is reconnecting', new Error('ECONNREFUSED'));
    expect(isRetryable(down)).toBe(true);
    expect((down.cause as Error).message).toBe('ECONNREFUSED');
    expect(isCacheError(new Error('plain'))).toBe(false);
    expect(isCacheError({ code: 'INVALID_KEY' })).toBe(false);
  });
});
