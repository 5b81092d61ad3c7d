import { MissingPeerError } from '../errors.js';

/**
 * Loads an optional peer with `import()`. A missing package becomes MISSING_PEER naming it; any
 * other failure (a broken install, a syntax error in the peer) is rethrown untouched.
 */
export async function loadPeer<T>(
  load: () => Promise<{ default: T }>,
  packageName: string,
  feature: string,
): Promise<T> {
  try {
    return (await load()).default;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : '';
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(packageName)) {
      throw new MissingPeerError(packageName, feature, error);
    }
    throw error;
  }
}
