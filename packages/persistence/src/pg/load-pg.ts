import { loadOptionalPeer } from '@infra/core';
import { missingPeer } from '../errors.js';

type PgModule = typeof import('pg');

/** Loads the optional peer `pg` when a pool must be created. */
export async function loadPg(owner: string): Promise<Pick<PgModule, 'Pool' | 'Client'>> {
  const mod = await loadOptionalPeer('pg', owner, () => import('pg'), missingPeer);
  // Releases before the ESM wrapper expose the classes only on the CommonJS default export.
  return (mod as Partial<PgModule>).Pool ? mod : (mod as unknown as { default: PgModule }).default;
}
