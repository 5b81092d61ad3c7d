import { InvalidOptionError, check } from './errors.js';

/** One RFC 8288 link. */
export interface WebLink {
  href: string;
  rel: string;
}

export interface LinkOptions {
  /**
   * Origin to make links absolute, e.g. `'https://api.example.com'` (no path: the request's is used).
   * Behind a proxy the request URL is the proxy's view, so set this to the public address.
   * @default undefined (links are relative references, resolved against the request URL)
   */
  baseUrl?: string;
  /**
   * Query parameter names for the page number, page size and cursor.
   * @default { page: 'page', limit: 'limit', cursor: 'cursor' }
   */
  parameters?: { page?: string; limit?: string; cursor?: string };
}

const PLACEHOLDER_ORIGIN = 'http://placeholder.invalid';

/** Serializes links as an RFC 8288 `Link` header value. */
export function formatLinkHeader(links: readonly WebLink[]): string {
  const given: unknown = links;
  if (!Array.isArray(given)) throw new InvalidOptionError('links', given, 'an array of { href, rel }');
  return links
    .map(({ href, rel }) => {
      if (/[<>\s]/.test(href))
        throw new InvalidOptionError('href', href, 'a URI reference without spaces or angle brackets');
      if (!/^[a-z][a-z0-9.-]*( [a-z][a-z0-9.-]*)*$/i.test(rel))
        throw new InvalidOptionError('rel', rel, 'a link relation type');
      return `<${href}>; rel="${rel}"`;
    })
    .join(', ');
}

/**
 * `first`, `prev`, `next` and `last` links for offset pagination, built from the request URL (its
 * other query parameters are kept).
 */
export function offsetPaginationLinks(
  url: string,
  meta: { page: number; limit: number; total: number },
  options: LinkOptions = {},
): WebLink[] {
  check.plainObject('meta', meta);
  check.integer('meta.page', meta.page);
  check.integer('meta.limit', meta.limit);
  check.integer('meta.total', meta.total, 0);
  const names = parameterNames(options);
  const lastPage = Math.max(1, Math.ceil(meta.total / meta.limit));
  const at = (page: number): string =>
    withQuery(url, options, { [names.page]: String(page), [names.limit]: String(meta.limit) });
  const links: WebLink[] = [{ rel: 'first', href: at(1) }];
  if (meta.page > 1) links.push({ rel: 'prev', href: at(Math.min(meta.page - 1, lastPage)) });
  if (meta.page < lastPage) links.push({ rel: 'next', href: at(meta.page + 1) });
  links.push({ rel: 'last', href: at(lastPage) });
  return links;
}

/** The `next` link of a keyset listing (none on the last page). */
export function cursorPaginationLinks(
  url: string,
  page: { nextCursor: string | null; limit: number },
  options: LinkOptions = {},
): WebLink[] {
  check.plainObject('page', page);
  check.integer('page.limit', page.limit);
  if (page.nextCursor === null) return [];
  check.nonEmptyString('page.nextCursor', page.nextCursor);
  const names = parameterNames(options);
  return [
    {
      rel: 'next',
      href: withQuery(url, options, { [names.cursor]: page.nextCursor, [names.limit]: String(page.limit) }),
    },
  ];
}

function parameterNames(options: LinkOptions): { page: string; limit: string; cursor: string } {
  return { page: 'page', limit: 'limit', cursor: 'cursor', ...options.parameters };
}

function withQuery(url: string, options: LinkOptions, params: Record<string, string>): string {
  let target: URL;
  try {
    target = new URL(url, PLACEHOLDER_ORIGIN);
  } catch {
    throw new InvalidOptionError('url', url, 'a request URL');
  }
  if (options.baseUrl !== undefined) target = new URL(target.pathname + target.search, origin(options.baseUrl));
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return options.baseUrl !== undefined || /^[a-z][a-z0-9+.-]*:/i.test(url)
    ? target.href
    : target.pathname + target.search;
}

function origin(baseUrl: string): string {
  let base: URL | undefined;
  try {
    base = new URL(baseUrl);
  } catch {
    base = undefined;
  }
  // A path in baseUrl would be silently dropped by URL resolution: refuse it instead.
  if (base === undefined || base.origin === 'null' || base.pathname !== '/' || base.search !== '' || base.hash !== '') {
    throw new InvalidOptionError('baseUrl', baseUrl, 'an origin such as "https://api.example.com"');
  }
  return base.origin;
}
