import { InfraError, errorFamilyOf } from '@infra/core';
import { describe, expect, it } from 'vitest';
import { CheckTimeoutError, HealthError, InvalidOptionError, isHealthError } from './errors.js';

describe('errors of @infra/health', () => {
  it('are InfraErrors of the @infra/health family with a code and a name', () => {
    const timeout = new CheckTimeoutError('db', 2000);
    const invalid = new InvalidOptionError('cacheTtlMs', -1, 'a finite number >= 0');
    const duplicate = new HealthError('DUPLICATE_CHECK', 'A health check named "db" is already registered');
    for (const error of [timeout, invalid, duplicate]) {
      expect(error).toBeInstanceOf(InfraError);
      expect(errorFamilyOf(error)).toBe('@infra/health');
      expect(isHealthError(error, error.code)).toBe(true);
    }
    expect([timeout.name, invalid.name, duplicate.name]).toEqual([
      'CheckTimeoutError',
      'InvalidOptionError',
      'HealthError',
    ]);
    expect([timeout.isRetryable, invalid.isRetryable]).toEqual([true, false]);
    expect(invalid.message).toBe('Invalid option "cacheTtlMs": expected a finite number >= 0, got -1');
  });

  it('narrows by code, and refuses look-alikes', () => {
    const error: unknown = new CheckTimeoutError('db', 2000);
    if (isHealthError(error, 'CHECK_TIMEOUT')) expect([error.check, error.timeoutMs]).toEqual(['db', 2000]);
    else expect.unreachable('a CHECK_TIMEOUT error');
    expect(isHealthError(error, 'INVALID_STATUS')).toBe(false);
    expect(isHealthError(Object.assign(new Error('look-alike'), { code: 'CHECK_TIMEOUT' }))).toBe(false);
  });
});
