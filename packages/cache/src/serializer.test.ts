import { describe, expect, it } from 'vitest';
import { DATE_TAG, jsonSerializer } from './serializer.js';

describe('jsonSerializer', () => {
  it('round-trips Dates at any depth, and leaves other objects alone', () => {
    const value = { at: new Date('2020-01-01T00:00:00.000Z'), list: [new Date(5)], text: 'no date here', n: { x: 1 } };
    const text = jsonSerializer.serialize(value);
    expect(text).toContain(DATE_TAG);
    expect(jsonSerializer.deserialize(text)).toEqual(value);
    expect(jsonSerializer.deserialize(jsonSerializer.serialize({ a: 1 }))).toEqual({ a: 1 });
  });

  it('names where an unserializable value sits', () => {
    expect(() => jsonSerializer.serialize({ deep: { amount: 10n } })).toThrow(
      expect.objectContaining({
        code: 'UNSERIALIZABLE_VALUE',
        path: '"amount"',
        message: 'Cannot cache the value at "amount": 10n has no faithful JSON form',
      }),
    );
    expect(() => jsonSerializer.serialize(new Set([1]))).toThrow(/Set/);
    expect(() => jsonSerializer.serialize({ when: new Date(Number.NaN) })).toThrow(/invalid Date/);
    expect(() => jsonSerializer.serialize(Symbol('s'))).toThrow(/symbol/);
    expect(() => jsonSerializer.serialize({ x: Infinity })).toThrow(/Infinity/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => jsonSerializer.serialize(cycle)).toThrow(
      expect.objectContaining({ code: 'UNSERIALIZABLE_VALUE', message: expect.stringMatching(/circular/) }),
    );
    expect(() => jsonSerializer.serialize(undefined)).toThrow(/"miss"/);
  });

  it('stores objects with toJSON as their JSON form', () => {
    expect(jsonSerializer.deserialize(jsonSerializer.serialize({ b: Buffer.from('hi') }))).toEqual({
      b: { type: 'Buffer', data: [104, 105] },
    });
  });
});
