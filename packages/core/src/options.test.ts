import { describe, expect, it } from 'vitest';
import { InfraError, optionChecks, silentLogger } from './index.js';

class InvalidOption extends InfraError<'INVALID_OPTION'> {
  constructor(
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super('INVALID_OPTION', `Invalid option "${option}": expected ${expected}`);
  }
}
const check = optionChecks((option, value, expected) => new InvalidOption(option, value, expected));

describe('optionChecks', () => {
  it('return good values unchanged', () => {
    expect(check.integer('n', 3)).toBe(3);
    expect(check.integer('n', 0, 0)).toBe(0);
    expect(check.nonNegative('ms', 0)).toBe(0);
    expect(check.positive('ms', 0.5)).toBe(0.5);
    expect(check.ratio('r', 1)).toBe(1);
    expect(check.nonEmptyString('s', 'a')).toBe('a');
    expect(check.boolean('b', false)).toBe(false);
    expect(check.oneOf('k', 'b', ['a', 'b'])).toBe('b');
    const fn = (): void => undefined;
    expect(check.fn('f', fn)).toBe(fn);
    expect(check.optionalFn('f', undefined)).toBeUndefined();
    expect(check.plainObject('o', { a: 1 })).toEqual({ a: 1 });
    expect(check.optionalLogger('logger', undefined)).toBeUndefined();
    expect(check.optionalLogger('logger', silentLogger)).toBe(silentLogger);
    const client = { get: fn, set: fn };
    expect(check.withMethods('client', client, ['get', 'set'], 'a client')).toBe(client);
  });

  it.each([
    ['integer', () => check.integer('retries', 1.5), 'an integer >= 1'],
    ['integer min', () => check.integer('retries', -1, 0), 'an integer >= 0'],
    ['nonNegative', () => check.nonNegative('timeoutMs', -1), 'a finite number >= 0'],
    ['nonNegative NaN', () => check.nonNegative('timeoutMs', Number.NaN), 'a finite number >= 0'],
    ['positive', () => check.positive('timeoutMs', 0), 'a finite number > 0'],
    ['ratio', () => check.ratio('threshold', 1.5), 'a number in (0, 1]'],
    ['nonEmptyString', () => check.nonEmptyString('name', ''), 'a non-empty string'],
    ['boolean', () => check.boolean('flag', 'yes'), 'a boolean'],
    ['oneOf', () => check.oneOf('mode', 'c', ['a', 'b']), 'one of "a", "b"'],
    ['plainObject', () => check.plainObject('options', []), 'an object'],
    ['fn', () => check.fn('handler', 1), 'a function'],
    ['optionalFn', () => check.optionalFn('now', 'x'), 'a function'],
    ['withMethods', () => check.withMethods('client', { get() {} }, ['get', 'set'], 'a client'), 'a client'],
    ['withMethods null', () => check.withMethods('client', null, ['get'], 'a client'), 'a client'],
    // console has no (object, message) contract and a bunyan-less object lacks debug: both refused.
    [
      'optionalLogger',
      () => check.optionalLogger('logger', { info() {}, warn() {}, error() {} }),
      'a logger with debug',
    ],
  ])('%s refuses a bad value with the package error naming the option', (_name, run, expected) => {
    let thrown: unknown;
    try {
      run();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOption);
    expect((thrown as InvalidOption).code).toBe('INVALID_OPTION');
    expect((thrown as Error).message).toContain(expected);
    expect((thrown as InvalidOption).option).toMatch(/\w+/);
  });
});
