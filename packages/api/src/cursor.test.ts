import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, uniqueName } from '@infra/test-utils';
import { createCursorCodec } from './cursor-codec.js';
import { createCursorPagination, cursorPage } from './cursor-pagination.js';
import { isApiError } from './errors.js';

const secret = 'a-test-secret-of-enough-length';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(isApiError(error, 'INVALID_CURSOR')).toBe(true);
    return (error as { reason: string }).reason;
  }
  return undefined;
}

describe('createCursorCodec', () => {
  it('round-trips a position through an opaque base64url cursor', () => {
    const codec = createCursorCodec<{ createdAt: string; id: number }>({ secret });
    const cursor = codec.encode({ createdAt: '2025-01-02T03:04:05.000Z', id: 42 });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(codec.decode(cursor)).toEqual({ createdAt: '2025-01-02T03:04:05.000Z', id: 42 });
  });

  it('detects a tampered body, a tampered signature and a re-signed forgery', () => {
    const codec = createCursorCodec({ secret });
    const cursor = codec.encode({ id: 10 });
    const [body, signature] = cursor.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ p: { id: 999999 }, t: Date.now() })).toString('base64url');
    expect(reasonOf(() => codec.decode(`${forgedBody}.${signature}`))).toBe('signature');
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    expect(reasonOf(() => codec.decode(`${body}.${flipped}`))).toBe('signature');
    const foreign = createCursorCodec({ secret: 'another-secret-of-enough-length' }).encode({ id: 10 });
    expect(reasonOf(() => codec.decode(foreign))).toBe('signature');
  });

  it('accepts only the canonical encoding of a signature', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const codec = createCursorCodec({ secret });
    for (let id = 0; id < 20; id++) {
      const cursor = codec.encode({ id });
      // The last of 43 characters carries 4 bits of the HMAC and 2 unused ones: flipping an unused
      // bit decodes to the same bytes, and must still be refused.
      const last = alphabet.indexOf(cursor.slice(-1));
      const variant = cursor.slice(0, -1) + alphabet.charAt(last ^ 1);
      expect(Buffer.from(variant.split('.')[1]!, 'base64url')).toEqual(Buffer.from(cursor.split('.')[1]!, 'base64url'));
      expect(reasonOf(() => codec.decode(variant))).toBe('signature');
      expect(codec.decode(cursor)).toEqual({ id });
    }
  });

  it('refuses a cursor issued for another listing (namespace)', () => {
    const users = createCursorCodec({ secret, namespace: 'users' });
    const orders = createCursorCodec({ secret, namespace: 'orders' });
    expect(reasonOf(() => orders.decode(users.encode({ id: 1 })))).toBe('signature');
    expect(users.decode(users.encode({ id: 1 }))).toEqual({ id: 1 });
  });

  it.each([['not-a-cursor'], [''], ['a.b'], [42], [null], [`${'a'.repeat(5000)}.${'b'.repeat(43)}`]])(
    'refuses malformed input %j without echoing it',
    (input) => {
      const codec = createCursorCodec({ secret });
      expect(reasonOf(() => codec.decode(input))).toBe('malformed');
    },
  );

  it('expires cursors after maxAgeMs on the injected clock', () => {
    let now = 1_000_000;
    const codec = createCursorCodec({ secret, maxAgeMs: 60_000, now: () => now });
    const cursor = codec.encode({ id: 1 });
    now += 60_000;
    expect(codec.decode(cursor)).toEqual({ id: 1 });
    now += 1;
    expect(reasonOf(() => codec.decode(cursor))).toBe('expired');
  });

  it('rotates secrets: the first signs, every one verifies', () => {
    const old = createCursorCodec({ secret: 'old-secret-0123456789' });
    const rotated = createCursorCodec({ secret: ['new-secret-0123456789', 'old-secret-0123456789'] });
    const oldCursor = old.encode({ id: 5 });
    expect(rotated.decode(oldCursor)).toEqual({ id: 5 });
    expect(reasonOf(() => old.decode(rotated.encode({ id: 6 })))).toBe('signature');
  });

  it('validates options without putting the secret in the message', () => {
    let message = '';
    try {
      createCursorCodec({ secret: 'short-secret' });
    } catch (error) {
      expect(isApiError(error, 'INVALID_OPTION')).toBe(true);
      message = (error as Error).message;
    }
    expect(message).toContain('"secret"');
    expect(message).not.toContain('short-secret');
    expect(() => createCursorCodec({ secret: [] })).toThrow(/Invalid option "secret"/);
    expect(() => createCursorCodec({ secret, maxAgeMs: 0 })).toThrow(/Invalid option "maxAgeMs"/);
    const codec = createCursorCodec({ secret });
    expect(() => codec.encode(new Date() as never)).toThrow(/Invalid option "position"/);
    expect(() => codec.encode({ id: Number.NaN })).toThrow(/Invalid option "position"/);
  });
});

describe('keyset pagination over real Postgres', () => {
  const schema = uniqueName('api_cursor');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const codec = createCursorCodec<[string, number]>({ secret, namespace: 'events:by-created' });

  beforeAll(async () => {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(`CREATE TABLE ${schema}.events (id int PRIMARY KEY, created_at timestamptz NOT NULL)`);
    // Many ties on created_at: only the (created_at, id) tuple orders them totally.
    await pool.query(
      `INSERT INTO ${schema}.events SELECT g, timestamptz '2025-01-01' + ((g / 4) * interval '1 minute') FROM generate_series(1, 23) g`,
    );
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  async function fetchPage(query: { cursor?: string; limit?: string }) {
    const pagination = createCursorPagination(query, { codec, defaultLimit: 5 });
    const { rows } = await pool.query<{ id: number; created_at: Date }>(
      pagination.after === undefined
        ? `SELECT id, created_at FROM ${schema}.events ORDER BY created_at DESC, id DESC LIMIT $1`
        : `SELECT id, created_at FROM ${schema}.events WHERE (created_at, id) < ($2::timestamptz, $3::int)
           ORDER BY created_at DESC, id DESC LIMIT $1`,
      pagination.after === undefined ? [pagination.fetchLimit] : [pagination.fetchLimit, ...pagination.after],
    );
    return cursorPage(rows, pagination, (row): [string, number] => [row.created_at.toISOString(), row.id]);
  }

  it('walks every row exactly once, in order, and ends with a null cursor', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await fetchPage(cursor === undefined ? {} : { cursor });
      pages += 1;
      seen.push(...page.data.map((row) => row.id));
      expect(page.hasMore).toBe(page.nextCursor !== null);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(pages).toBe(5);
    const expected = Array.from({ length: 23 }, (_, i) => i + 1).sort(
      (a, b) => Math.floor(b / 4) - Math.floor(a / 4) || b - a,
    );
    expect(seen).toEqual(expected);
  });

  it('never runs a query with a forged position', async () => {
    const forged = Buffer.from(JSON.stringify({ p: ["2025-01-01' OR 1=1 --", 0], t: Date.now() })).toString(
      'base64url',
    );
    const genuine = (await fetchPage({})).nextCursor!;
    await expect(fetchPage({ cursor: `${forged}.${genuine.split('.')[1]!}` })).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
    });
  });

  it('validates limit like offset pagination', () => {
    expect(() => createCursorPagination({ limit: 'abc' }, { codec })).toThrow(/Invalid "limit"/);
    expect(createCursorPagination({ limit: '7' }, { codec })).toMatchObject({
      limit: 7,
      fetchLimit: 8,
      after: undefined,
    });
    expect(() => createCursorPagination({}, { codec: {} as never })).toThrow(/Invalid option "codec"/);
  });
});
