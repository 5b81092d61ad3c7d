/**
 * Loads an optional peer dependency with `load` (a literal `import('pkg')`, so that bundlers and
 * type checkers see it). When the package is not installed, throws what `missing` makes of a
 * message that names the package to install; any other failure of the import is rethrown as is.
 */
export async function loadOptionalPeer<M>(
  pkg: string,
  owner: string,
  load: () => Promise<M>,
  missing: (message: string, cause: unknown) => Error,
): Promise<M> {
  try {
    return await load();
  } catch (error) {
    if (!isNotFound(error, pkg)) throw error;
    throw missing(
      `${owner} needs the optional peer dependency "${pkg}": install it with \`npm install ${pkg}\``,
      error,
    );
  }
}

/** True when `error` is Node's "module not found" for `pkg` itself, not for a file inside it. */
export function isNotFound(error: unknown, pkg: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  // A missing file inside an installed package is a broken install, not a missing peer.
  return typeof message !== 'string' || message.includes(`'${pkg}'`) || message.includes(`"${pkg}"`);
}
