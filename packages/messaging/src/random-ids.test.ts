import { describe, expect, it } from 'vitest';
import { parseTraceparent } from './context.js';
import { randomSpanId, randomUuid, randomUuidAndRootTraceparent, rootTraceparent } from './random-ids.js';

// Each pool holds 128 ids; 1,000 draws go through several refills.
const DRAWS = 1000;

describe('random ids', () => {
  it('makes version 4 UUIDs, all different, across refills of the pool', () => {
    const ids = Array.from({ length: DRAWS }, () => randomUuid());
    for (const id of ids) expect(id).toMatch(/^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/);
    expect(new Set(ids).size).toBe(DRAWS);
    // The bits that are random take every value: no position is stuck at one digit.
    for (const position of [0, 9, 15, 20, 35]) expect(new Set(ids.map((id) => id[position])).size).toBe(16);
    expect(new Set(ids.map((id) => id[19]))).toEqual(new Set(['8', '9', 'a', 'b']));
  });

  it('makes span ids and root traceparents that parse, all different', () => {
    const spans = Array.from({ length: DRAWS }, () => randomSpanId());
    for (const span of spans) expect(span).toMatch(/^[\da-f]{16}$/);
    expect(new Set(spans).size).toBe(DRAWS);
    const roots = Array.from({ length: DRAWS }, () => rootTraceparent());
    const parsed = roots.map((value) => parseTraceparent(value));
    for (const trace of parsed) expect(trace).toMatchObject({ version: '00', flags: '01' });
    expect(new Set(parsed.map((trace) => trace?.traceId)).size).toBe(DRAWS);
    expect(new Set(parsed.map((trace) => trace?.parentId)).size).toBe(DRAWS);
  });

  it('makes a UUID and a root traceparent together, independent of each other', () => {
    const pairs = Array.from({ length: DRAWS }, () => randomUuidAndRootTraceparent());
    for (const pair of pairs) {
      expect(pair.slice(0, 36)).toMatch(/^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/);
      const trace = parseTraceparent(pair.slice(36));
      expect(trace).toMatchObject({ version: '00', flags: '01' });
      expect(trace?.traceId.startsWith(pair.slice(0, 8))).toBe(false);
    }
    expect(new Set(pairs.map((pair) => pair.slice(0, 36))).size).toBe(DRAWS);
    expect(new Set(pairs.map((pair) => pair.slice(36))).size).toBe(DRAWS);
  });
});
