import { describe, expect, it } from 'vitest';
import { randomUuid } from './random-ids.js';

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
});
