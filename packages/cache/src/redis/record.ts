import type { StoreRecord, StoreWrite } from '../store.js';

/**
 * Redis record layout: `<freshUntil>\n<tags JSON>\n<payload>`. `freshUntil` is epoch ms, empty
 * for "never stale"; tags are empty when there are none. The payload comes last so that it may
 * hold any character, and the header stays readable by the tag-deletion script.
 */
export function encodeRecord(write: StoreWrite): string {
  const fresh = Number.isFinite(write.freshUntil) ? String(write.freshUntil) : '';
  const tags = write.tags && write.tags.length > 0 ? JSON.stringify(write.tags) : '';
  return `${fresh}\n${tags}\n${write.payload as string}`;
}

/** Reads a record; text in another layout (not written by this package) counts as absent. */
export function decodeRecord(raw: string): StoreRecord | undefined {
  const first = raw.indexOf('\n');
  const second = first < 0 ? -1 : raw.indexOf('\n', first + 1);
  if (second < 0) return undefined;
  const fresh = first === 0 ? Infinity : Number(raw.slice(0, first));
  if (Number.isNaN(fresh)) return undefined;
  return { payload: raw.slice(second + 1), freshUntil: fresh };
}
