import { describe, expect, it } from 'vitest';
import { DATE_TAG, UnrepresentableValueError, parseStrict, stringifyStrict } from './index.js';

function refusal(value: unknown): UnrepresentableValueError {
  try {
    stringifyStrict(value);
  } catch (error) {
    if (error instanceof UnrepresentableValueError) return error;
    throw error;
  }
  throw new Error('was not refused');
}

describe('strict JSON', () => {
  it('writes what JSON writes for plain data, leaving out undefined properties', () => {
    const value = { a: 1, b: 'x', c: [true, null, { d: 2.5 }], e: undefined };
    expect(stringifyStrict(value)).toBe(JSON.stringify(value));
    expect(parseStrict(stringifyStrict(value))).toEqual({ a: 1, b: 'x', c: [true, null, { d: 2.5 }] });
  });

  it('writes Dates as ISO strings by default, and tagged for a faithful round trip', () => {
    const when = new Date('2024-01-02T03:04:05.678Z');
    expect(parseStrict(stringifyStrict({ when }))).toEqual({ when: when.toISOString() });
    const tagged = stringifyStrict({ when, list: [when] }, { dates: 'tagged' });
    expect(tagged).toContain(DATE_TAG);
    expect(parseStrict(tagged, { dates: 'tagged' })).toEqual({ when, list: [when] });
    // An object with the tag and other keys is data, not a Date.
    expect(parseStrict(`{"${DATE_TAG}":"x","other":1}`, { dates: 'tagged' })).toEqual({ [DATE_TAG]: 'x', other: 1 });
  });

  it.each([
    ['a BigInt', { n: 1n }, '"n"'],
    ['a function', { f: () => 1 }, '"f"'],
    ['a symbol', { s: Symbol('x') }, '"s"'],
    ['NaN', { n: Number.NaN }, '"n"'],
    ['Infinity', [Infinity], '"0"'],
    ['undefined in an array', [1, undefined], '"1"'],
    ['undefined as the value', undefined, '$'],
    ['a Map', { m: new Map() }, '"m"'],
    ['a Set', { s: new Set() }, '"s"'],
    ['a RegExp', { r: /x/ }, '"r"'],
    ['an Error', { e: new Error('x') }, '"e"'],
    ['an invalid Date', { d: new Date(Number.NaN) }, '"d"'],
  ])('refuses %s and names where it sits', (_what, value, path) => {
    const error = refusal(value);
    expect(error.code).toBe('UNREPRESENTABLE_VALUE');
    expect(error.path).toBe(path);
  });

  it('refuses a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(refusal(cyclic).reason).toBe('a circular reference');
  });
});
