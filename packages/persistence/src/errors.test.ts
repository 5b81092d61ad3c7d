import { errorFamilyOf, isRetryable } from '@infra/core';
import { describe, expect, it } from 'vitest';
import { toPersistenceError } from './driver-errors.js';
import { InvalidOptionError, PersistenceError, findErrorCode, isPersistenceError } from './errors.js';
import { resolvePersistenceOptions } from './persistence-options.js';

describe('persistence errors', () => {
  it('belong to the @infra/persistence family and narrow by code', () => {
    const error: unknown = (() => {
      try {
        resolvePersistenceOptions({ poolSize: 0 }, {});
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(errorFamilyOf(error)).toBe('@infra/persistence');
    expect(isPersistenceError(error, 'ACQUIRE_TIMEOUT')).toBe(false);
    if (!isPersistenceError(error, 'INVALID_OPTION')) throw new Error('expected INVALID_OPTION');
    // Narrowed to InvalidOptionError: option and value are typed.
    expect([error.option, error.value]).toEqual(['poolSize', 0]);
    expect(error.message).toBe('Invalid option "poolSize": expected an integer >= 1, got 0');
    expect(error).toBeInstanceOf(InvalidOptionError);
  });

  it('keep the SQLSTATE, the cause and whether a retry may help', () => {
    const server = Object.assign(new Error('could not serialize access'), { code: '40001' });
    const coded = toPersistenceError(server);
    expect(coded).toMatchObject({ code: 'SERIALIZATION_FAILURE', sqlState: '40001', cause: server });
    expect(isRetryable(coded)).toBe(true);
    expect(toPersistenceError(coded)).toBe(coded);
    const wrapped = new PersistenceError('MIGRATION_FAILED', 'failed', { cause: coded });
    expect(findErrorCode(wrapped, ['SERIALIZATION_FAILURE'])).toBe('SERIALIZATION_FAILURE');
    expect(isPersistenceError({ code: 'CLOSED' })).toBe(false);
  });
});
