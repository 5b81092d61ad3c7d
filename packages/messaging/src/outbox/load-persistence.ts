import { missingPeer } from '../errors.js';

type PersistenceModule = typeof import('@infra/persistence');

let loading: Promise<PersistenceModule> | undefined;

/** Loads the optional `@infra/persistence` peer on first use. */
export function loadPersistence(): Promise<PersistenceModule> {
  loading ??= import('@infra/persistence').catch((error: unknown) => {
    loading = undefined;
    throw missingPeer('@infra/persistence', 'The transactional outbox', error);
  });
  return loading;
}
