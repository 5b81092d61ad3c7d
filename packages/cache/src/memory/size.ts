/** Bytes an entry costs besides its payload: the map slot, the record object and its fields. */
export const ENTRY_OVERHEAD_BYTES = 96;

const MAX_DEPTH = 12;

/**
 * A cheap estimate of the heap bytes a value holds (UTF-16 strings, 8-byte numbers, a fixed
 * cost per object). Used for by-reference storage only; serialized payloads are measured exactly.
 */
export function estimateBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return 16 + value.length * 2;
  if (typeof value !== 'object') return typeof value === 'boolean' ? 4 : 8;
  if (value === null) return 4;
  if (depth >= MAX_DEPTH) return 64;
  if (Array.isArray(value)) {
    let total = 32;
    for (const item of value as unknown[]) total += 8 + estimateBytes(item, depth + 1);
    return total;
  }
  // Plain objects (the common case) skip the checks for built-ins.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    if (value instanceof Date) return 24;
    if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
  }
  let total = 48;
  // for…in, not Object.entries, which would allocate a pair per property on every set. Inherited
  // enumerable properties are counted too: this is an estimate, and they are rare.
  const record = value as Record<string, unknown>;
  for (const key in record) total += 16 + key.length * 2 + estimateBytes(record[key], depth + 1);
  return total;
}
