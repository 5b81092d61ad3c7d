import { describe, expect, it } from 'vitest';
import { isLogger, silentLogger } from './index.js';

describe('Logger', () => {
  it('recognises an object with debug, info, warn and error, and nothing less', () => {
    const calls: string[] = [];
    const logger = {
      debug: () => void calls.push('debug'),
      info: () => void calls.push('info'),
      warn: () => void calls.push('warn'),
      error: () => void calls.push('error'),
    };
    expect(isLogger(logger)).toBe(true);
    expect(isLogger({ ...logger, debug: 'no' })).toBe(false);
    expect(isLogger(null)).toBe(false);
    expect(isLogger('logger')).toBe(false);
  });

  it('has a silent default that accepts every call and cannot be changed', () => {
    expect(isLogger(silentLogger)).toBe(true);
    expect(() => {
      silentLogger.error({ err: new Error('x') }, 'dropped');
    }).not.toThrow();
    expect(Object.isFrozen(silentLogger)).toBe(true);
  });
});
