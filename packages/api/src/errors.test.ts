import { InfraError, errorFamilyOf } from '@infra/core';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  InvalidCursorError,
  InvalidOptionError,
  InvalidPaginationError,
  MissingPeerError,
  StoreUnavailableError,
  UnsafeCorsConfigError,
  isApiError,
} from './errors.js';

describe('errors of @infra/api', () => {
  it('are InfraErrors of the @infra/api family, with a code, a name and no retry', () => {
    const errors = [
      new InvalidPaginationError('page', 'abc', 'a positive integer'),
      new InvalidCursorError('expired'),
      new UnsafeCorsConfigError('origins', /^.*$/, 'admits any origin'),
      new InvalidOptionError('maxLimit', 0, 'an integer >= 1'),
      new MissingPeerError('@fastify/cors', 'corsPlugin needs "@fastify/cors"', new Error('not found')),
    ];
    expect(errors.map((error) => [error.code, error.name])).toEqual([
      ['INVALID_PAGINATION', 'InvalidPaginationError'],
      ['INVALID_CURSOR', 'InvalidCursorError'],
      ['UNSAFE_CORS_CONFIG', 'UnsafeCorsConfigError'],
      ['INVALID_OPTION', 'InvalidOptionError'],
      ['MISSING_PEER', 'MissingPeerError'],
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(InfraError);
      expect(error).toBeInstanceOf(ApiError);
      expect(error.isRetryable).toBe(false);
      expect(errorFamilyOf(error)).toBe('@infra/api');
      expect(isApiError(error)).toBe(true);
      expect(isApiError(error, error.code)).toBe(true);
    }
    expect(errors[4]!.cause).toBeInstanceOf(Error);
  });

  it('marks STORE_UNAVAILABLE retryable, with its cause', () => {
    const cause = new Error('connect ECONNREFUSED');
    const error = new StoreUnavailableError('claim a key', cause);
    expect(isApiError(error, 'STORE_UNAVAILABLE')).toBe(true);
    expect(error.isRetryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('The idempotency store failed to claim a key');
  });

  it('recognises errors by family and code, not by class or shape', () => {
    const cursor: unknown = new InvalidCursorError('signature');
    expect(isApiError(cursor, 'INVALID_PAGINATION')).toBe(false);
    if (isApiError(cursor, 'INVALID_CURSOR')) expect(cursor.reason).toBe('signature');
    else expect.unreachable('an INVALID_CURSOR error');
    expect(isApiError(Object.assign(new Error('look-alike'), { code: 'INVALID_CURSOR' }))).toBe(false);
    expect(isApiError(null)).toBe(false);
  });

  it('name the bad value in their messages, a RegExp by its source', () => {
    expect(new InvalidPaginationError('limit', '500', 'an integer from 1 to 100').message).toBe(
      'Invalid "limit": expected an integer from 1 to 100, got "500"',
    );
    expect(new UnsafeCorsConfigError('origins[0]', /example\.com/, 'unanchored').message).toBe(
      'Unsafe CORS option "origins[0]" (/example\\.com/): unanchored',
    );
    expect(new InvalidOptionError('header', 'yes', 'a boolean').message).toBe(
      'Invalid option "header": expected a boolean, got "yes"',
    );
  });
});
