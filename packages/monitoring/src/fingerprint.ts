import { createHash } from 'node:crypto';

/**
 * A stable group key for an error: the same failure at the same place groups together even when
 * its message carries ids, numbers or quoted values.
 */
export function fingerprintOf(error: Error, domain: string | undefined): string[] {
  const code = (error as { code?: unknown }).code;
  return [
    domain ?? '',
    error.name,
    typeof code === 'string' || typeof code === 'number' ? String(code) : '',
    normalizeMessage(error.message),
    topFrame(error.stack),
  ];
}

/** Hash of fingerprint parts, short enough to use as a key. */
export function hashFingerprint(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

export function normalizeMessage(message: string): string {
  return message
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '<str>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b(0x)?[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/\d+(\.\d+)?/g, '<n>');
}

function topFrame(stack: string | undefined): string {
  if (stack === undefined) return '';
  for (const line of stack.split('\n')) {
    const frame = line.trim();
    if (!frame.startsWith('at ') || frame.includes('node:internal')) continue;
    // Column numbers move with unrelated edits on the same line; the line is enough.
    return frame.replace(/:\d+\)?$/, '');
  }
  return '';
}
