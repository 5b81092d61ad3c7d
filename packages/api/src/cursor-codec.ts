import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError, InvalidOptionError, check } from './errors.js';

/** A JSON value: what a cursor position may hold (turn Dates into ISO strings first). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface CursorCodecOptions {
  /**
   * HMAC-SHA256 key(s), at least 16 bytes each. With several, the first signs new cursors and all
   * of them verify, so a secret can be rotated without breaking cursors clients already hold.
   */
  secret: string | Uint8Array | readonly (string | Uint8Array)[];
  /**
   * Binds cursors to one listing (e.g. `'challenges:by-created'`): a cursor issued under another
   * namespace fails verification instead of being read with the wrong keys.
   * @default ''
   */
  namespace?: string;
  /**
   * Cursors older than this many milliseconds are refused with INVALID_CURSOR (`reason: 'expired'`).
   * @default undefined (cursors do not expire)
   */
  maxAgeMs?: number;
  /**
   * Clock used to stamp and age cursors.
   * @default Date.now
   */
  now?: () => number;
}

/** Encodes keyset positions into opaque, tamper-evident cursors and back. */
export interface CursorCodec<T extends JsonValue = JsonValue> {
  /** An opaque base64url string carrying `position`, signed. */
  encode(position: T): string;
  /** The position inside `cursor`; throws INVALID_CURSOR when it cannot be trusted. */
  decode(cursor: unknown): T;
}

/** Bytes of an HMAC-SHA256. */
const SIGNATURE_BYTES = 32;
const MIN_SECRET_BYTES = 16;
// Far above any real position; refusing early bounds the work an attacker can cause.
const MAX_CURSOR_LENGTH = 4096;
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

/**
 * Creates a cursor codec. Format: `base64url(JSON { p: position, t: issuedAt })` `.`
 * `base64url(HMAC-SHA256(namespace NUL body))`. The body is only parsed after the signature
 * matches, so a forged cursor never reaches `JSON.parse` or the database.
 */
export function createCursorCodec<T extends JsonValue = JsonValue>(options: CursorCodecOptions): CursorCodec<T> {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object with a secret');
  }
  const secrets = toSecrets(options.secret);
  const namespace = options.namespace ?? '';
  if (typeof namespace !== 'string') throw new InvalidOptionError('namespace', namespace, 'a string');
  const maxAgeMs = options.maxAgeMs === undefined ? undefined : check.integer('maxAgeMs', options.maxAgeMs);
  const now = check.fn<() => number>('now', options.now ?? Date.now);

  const sign = (secret: Buffer, body: string): Buffer =>
    createHmac('sha256', secret).update(namespace).update('\0').update(body).digest();

  return {
    encode(position) {
      // undefined, functions, NaN or Dates would not come back as they went in.
      if (!isJsonValue(position)) throw new InvalidOptionError('position', position, 'a JSON value');
      const body = Buffer.from(JSON.stringify({ p: position, t: now() }), 'utf8').toString('base64url');
      const [signing] = secrets as [Buffer];
      return `${body}.${sign(signing, body).toString('base64url')}`;
    },

    decode(cursor) {
      if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !SHAPE.test(cursor)) {
        throw new InvalidCursorError('malformed');
      }
      const dot = cursor.indexOf('.');
      const body = cursor.slice(0, dot);
      const encoded = cursor.slice(dot + 1);
      const signature = Buffer.from(encoded, 'base64url');
      // Only the canonical encoding of a full-length HMAC: base64url's last character has unused
      // bits, and a variant of it would otherwise pass as the same signature.
      if (signature.length !== SIGNATURE_BYTES || signature.toString('base64url') !== encoded) {
        throw new InvalidCursorError('signature');
      }
      if (!secrets.some((secret) => timingSafeEqual(sign(secret, body), signature))) {
        throw new InvalidCursorError('signature');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        throw new InvalidCursorError('malformed');
      }
      if (typeof parsed !== 'object' || parsed === null || !('p' in parsed) || !('t' in parsed)) {
        throw new InvalidCursorError('malformed');
      }
      const { p, t } = parsed as { p: T; t: unknown };
      if (typeof t !== 'number') throw new InvalidCursorError('malformed');
      if (maxAgeMs !== undefined && now() - t > maxAgeMs) throw new InvalidCursorError('expired');
      return p;
    },
  };
}

function toSecrets(value: unknown): Buffer[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new InvalidOptionError('secret', 'an empty array', 'at least one secret');
  return list.map((secret, index) => {
    const option = Array.isArray(value) ? `secret[${index}]` : 'secret';
    const bytes =
      typeof secret === 'string'
        ? Buffer.from(secret, 'utf8')
        : secret instanceof Uint8Array
          ? Buffer.from(secret)
          : undefined;
    if (bytes === undefined) throw new InvalidOptionError(option, secret, 'a string or Uint8Array');
    // The secret itself never goes into the message: only its length.
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new InvalidOptionError(option, `a ${bytes.length}-byte secret`, `at least ${MIN_SECRET_BYTES} bytes`);
    }
    return bytes;
  });
}

function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).every(isJsonValue);
  }
  return false;
}
