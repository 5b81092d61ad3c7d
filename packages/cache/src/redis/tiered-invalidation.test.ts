import { eventually, redisUrl, uniqueName } from '@infra/test-utils';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import type { CacheEvents } from '../types.js';
import { encodeRecord } from './record.js';
import { TieredCacheService } from './tiered-cache.js';

const keyPrefix = `${uniqueName('cache_l1')}:`;
const raw = new Redis(redisUrl);
// Generous connect and command times: a busy machine may take seconds to connect or answer, and
// these tests are about behaviour, not speed.
const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };
const a = new TieredCacheService('shared', { connection: redisUrl, keyPrefix, ...patient });
const b = new TieredCacheService('shared', { connection: redisUrl, keyPrefix, ...patient });

afterAll(async () => {
  await a.clear();
  await Promise.all([a.close(), b.close()]);
  await raw.quit();
});

it("evicts a peer's L1 entry when one instance sets or deletes the key", async () => {
  await Promise.all([a.start(), b.start()]);
  const invalidations: CacheEvents['invalidate'][] = [];
  b.on('invalidate', (payload) => invalidations.push(payload));

  await a.set('k', 'v1');
  // An L2 read that overlaps a peer's announcement does not fill L1: let the announcement land.
  await eventually(() => invalidations.length === 1, 20_000);
  expect(await b.get('k')).toBe('v1');
  // Overwrite Redis behind both caches' backs: B keeps answering from its L1.
  await raw.set(
    `${keyPrefix}{shared}:v:k`,
    encodeRecord({ payload: JSON.stringify('sneaky'), freshUntil: Infinity, expiresAt: Infinity }),
  );
  expect(await b.get('k')).toBe('v1');

  await a.set('k', 'v2');
  await eventually(async () => (await b.get('k')) === 'v2', 20_000);
  expect(invalidations).toContainEqual({ cache: 'shared', keys: ['k'] });

  await a.delete('k');
  await eventually(async () => (await b.get('k')) === undefined, 20_000);

  const before = invalidations.length;
  await a.set('t', 1, { tags: ['x'] });
  await eventually(() => invalidations.length === before + 1, 20_000);
  expect(await b.get('t')).toBe(1);
  await a.deleteByTag('x');
  await eventually(async () => (await b.get('t')) === undefined, 20_000);
  expect(invalidations.some((i) => i.keys === 'all')).toBe(true);
});

it('never evicts its own L1 for its own writes announced back to it', async () => {
  const seen: unknown[] = [];
  a.on('invalidate', (payload) => seen.push(payload));
  await a.set('own', 1);
  await b.set('other', 1);
  await eventually(() => seen.length > 0, 20_000);
  expect(seen).toEqual([{ cache: 'shared', keys: ['other'] }]);
});
