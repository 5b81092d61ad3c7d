import { expect } from 'vitest';

/** What a message idempotency store offers (`IdempotencyStore` of @infra/messaging). */
export interface ContractIdempotencyStore {
  claim(key: string, token: string, leaseMs: number): Promise<'claimed' | 'done' | 'busy'>;
  complete(key: string, token: string, ttlMs: number): Promise<void>;
  release(key: string, token: string): Promise<void>;
}

/**
 * The lease rules every idempotency store keeps, on one fresh `key`: a live claim makes others
 * busy, only the holder's token releases it, a released key can be claimed again, and a completed
 * key answers `done`. The key stays completed for `ttlMs` afterwards.
 */
export async function expectIdempotencyClaims(
  store: ContractIdempotencyStore,
  key: string,
  leaseMs = 60_000,
  ttlMs = 60_000,
): Promise<void> {
  expect(await store.claim(key, 'a', leaseMs)).toBe('claimed');
  expect(await store.claim(key, 'b', leaseMs)).toBe('busy');
  await store.release(key, 'b');
  expect(await store.claim(key, 'b', leaseMs)).toBe('busy');
  await store.release(key, 'a');
  expect(await store.claim(key, 'b', leaseMs)).toBe('claimed');
  await store.complete(key, 'b', ttlMs);
  expect(await store.claim(key, 'c', leaseMs)).toBe('done');
}
