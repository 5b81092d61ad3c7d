import { missingPeer } from '../errors.js';
type PgModule = typeof import('pg');

/** Loads the optional peer `pg` when a pool must be created. */
export async function loadPg(what: string): Promise<Pick<PgModule, 'Pool' | 'Client'>> {
  let mod: PgModule;
  try {
    mod = await import('pg');
  } catch (error) {
    throw missingPeer('pg', what, error);
  }
  // Releases before the ESM wrapper expose the classes only on the CommonJS default export.
  return (mod as Partial<PgModule>).Pool ? mod : (mod as unknown as { default: PgModule }).default;
}
