import { describe, expect, it } from 'vitest';
import { parseTraceparent } from './context.js';
import { jsonSerializer, serializePayload } from './serializer.js';

describe('jsonSerializer', () => {
  it('round-trips JSON values and turns Dates into ISO strings', () => {
    const at = new Date('2024-05-01T10:00:00.000Z');
    const body = jsonSerializer.serialize({ a: 1, b: [true, null, 'x'], at, skipped: undefined });
    expect(jsonSerializer.deserialize(body as string)).toEqual({ a: 1, b: [true, null, 'x'], at: at.toISOString() });
    expect(jsonSerializer.deserialize(new TextEncoder().encode('{"n":2}'))).toEqual({ n: 2 });
  });

  it.each([
    ['a function', { run: () => 1 }, '"run" is a function'],
    ['a BigInt', { big: 10n }, '"big" is 10'],
    ['NaN', { score: Number.NaN }, '"score" is NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'Infinity'],
    ['a symbol', { s: Symbol('x') }, 'a symbol'],
    ['undefined', undefined, 'undefined'],
  ])('refuses %s instead of changing it silently', (_label, payload, message) => {
    expect(() => serializePayload(jsonSerializer, 'challenge.completed', payload)).toThrow(
      expect.objectContaining({
        code: 'SERIALIZATION_FAILED',
        topic: 'challenge.completed',
        message: expect.stringContaining(message),
      }),
    );
  });

  it('refuses circular structures', () => {
    const loop: Record<string, unknown> = {};
    loop.loop = loop;
    expect(() => serializePayload(jsonSerializer, 't', loop)).toThrow(
      expect.objectContaining({ code: 'SERIALIZATION_FAILED', message: expect.stringContaining('circular') }),
    );
  });

  it('checks payloads nested deeper than its fast walk, and leaves objects with toJSON to JSON', () => {
    let deep: Record<string, unknown> = { leaf: () => 1 };
    for (let i = 0; i < 100; i++) deep = { next: deep };
    expect(() => serializePayload(jsonSerializer, 't', deep)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('"leaf" is a function') }),
    );
    let fine: Record<string, unknown> = { leaf: [1, 'a', null] };
    for (let i = 0; i < 100; i++) fine = { next: fine };
    expect(jsonSerializer.deserialize(serializePayload(jsonSerializer, 't', fine))).toEqual(fine);
    const money = { toJSON: () => '12.50 EUR' };
    expect(serializePayload(jsonSerializer, 't', { price: money, at: new Date(0) })).toBe(
      '{"price":"12.50 EUR","at":"1970-01-01T00:00:00.000Z"}',
    );
    expect(() => serializePayload(jsonSerializer, 't', { list: [1, { n: Number.NEGATIVE_INFINITY }] })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('"n" is -Infinity') }),
    );
  });

  it('judges only what JSON writes: inherited keys and own toJSON methods are not refused', () => {
    // for...in in the fast walk also sees inherited enumerable keys; the replacer pass, which
    // sees exactly what JSON writes, has the last word.
    const inherited = Object.assign(Object.create({ helper: () => 1, n: Number.NaN }) as object, { a: 1 });
    expect(serializePayload(jsonSerializer, 't', inherited)).toBe('{"a":1}');
    expect(serializePayload(jsonSerializer, 't', { total: { toJSON: () => 5 }, list: [{ toJSON: () => 'x' }] })).toBe(
      '{"total":5,"list":["x"]}',
    );
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return `${(this.cents / 100).toFixed(2)} EUR`;
      }
    }
    expect(serializePayload(jsonSerializer, 't', { price: new Money(1250) })).toBe('{"price":"12.50 EUR"}');
    expect(() => serializePayload(jsonSerializer, 't', { nested: { inner: [1, 2, { f: Symbol('s') }] } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('"f" is a symbol') }),
    );
  });

  it('refuses a serializer that returns something other than bytes or a string', () => {
    const broken = { contentType: 'x', serialize: () => 42 as never, deserialize: (data: unknown) => data };
    expect(() => serializePayload(broken, 't', {})).toThrow(
      expect.objectContaining({ code: 'SERIALIZATION_FAILED', message: expect.stringContaining('returned 42') }),
    );
  });
});

describe('traceparent', () => {
  it('parses valid headers and refuses malformed or all-zero ones', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      version: '00',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      flags: '01',
    });
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
  });
});
