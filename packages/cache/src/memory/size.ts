/** Bytes an entry costs besides its payload: the map slot, the record object and its fields. */
export const ENTRY_OVERHEAD_BYTES = 96;

const MAX_DEPTH = 12;

/**
 * A cheap estimate of the heap bytes a value holds (UTF-16 strings, 8-byte numbers, a fixed
 * cost per object). Used for by-reference storage only; serialized payloads are measured exactly.
 */
export function estimateBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 4;
    case 'object': {
      if (value === null) return 4;
      if (depth >= MAX_DEPTH) return 64;
      if (value instanceof Date) return 24;
      if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
      if (Array.isArray(value)) {
        let total = 32;
        for (const item of value as unknown[]) total += 8 + estimateBytes(item, depth + 1);
        return total;
      }
      let total = 48;
      for (const [key, item] of Object.entries(value)) total += 16 + key.length * 2 + estimateBytes(item, depth + 1);
      return total;
    }
    default:
      return 8;
  }
}
