import { describe, expect, it } from 'vitest';
import { childTraceparent, parseTraceparent } from './context.js';
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
      expect.objectContaining({ code: 'SERIALIZATION_FAILED', topic: 'challenge.completed', message: expect.stringContaining(message) }),
    );
  });

  it('refuses circular structures', () => {
    const loop: Record<string, unknown> = {};
    loop.loop = loop;
    expect(() => serializePayload(jsonSerializer, 't', loop)).toThrow(expect.objectContaining({ code: 'SERIALIZATION_FAILED', message: expect.stringContaining('circular') }));
  });

  it('refuses a serializer that returns something other than bytes or a string', () => {
    const broken = { contentType: 'x', serialize: () => 42 as never, deserialize: (data: unknown) => data };
    expect(() => serializePayload(broken, 't', {})).toThrow(expect.objectContaining({ code: 'SERIALIZATION_FAILED', message: expect.stringContaining('returned 42') }));
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

  it('makes a child span in the same trace, or a new sampled trace', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const child = parseTraceparent(childTraceparent(parent));
    expect(child).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', flags: '00' });
    expect(child?.parentId).not.toBe('00f067aa0ba902b7');
    const root = parseTraceparent(childTraceparent('invalid'));
    expect(root?.flags).toBe('01');
    expect(root?.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
