import { InvalidOptionError, check } from './errors.js';
import { formatLinkHeader } from './link-header.js';
import type { WebLink } from './link-header.js';

export interface DeprecationOptions {
  /** When the version was (or will be) deprecated: a Date, ISO string or epoch milliseconds. */
  deprecatedAt: Date | string | number;
  /**
   * When the version stops answering (RFC 8594 `Sunset`). Must not be before `deprecatedAt`.
   * @default undefined (no Sunset header)
   */
  sunset?: Date | string | number;
  /**
   * URI of the version that replaces this one (`Link: <...>; rel="successor-version"`).
   * @default undefined
   */
  successor?: string;
  /**
   * URI of a human-readable deprecation notice (`Link: <...>; rel="deprecation"`, RFC 9745).
   * @default undefined
   */
  policy?: string;
}

/** Header values announcing a deprecated API version. */
export interface DeprecationHeaders {
  /** RFC 9745 structured date: `@<epoch seconds>`. */
  deprecation: string;
  /** RFC 8594 HTTP-date. */
  sunset?: string;
  /** RFC 8288 links to the successor version and the deprecation policy. */
  link?: string;
}

/**
 * Computes the `Deprecation`, `Sunset` and `Link` headers of a deprecated version once, at start;
 * throws INVALID_OPTION naming the bad option.
 */
export function deprecationHeaders(options: DeprecationOptions): DeprecationHeaders {
  check.plainObject('deprecation', options);
  const deprecatedAt = date('deprecation.deprecatedAt', options.deprecatedAt);
  const headers: DeprecationHeaders = { deprecation: `@${Math.floor(deprecatedAt.getTime() / 1000)}` };
  if (options.sunset !== undefined) {
    const sunset = date('deprecation.sunset', options.sunset);
    if (sunset.getTime() < deprecatedAt.getTime()) {
      throw new InvalidOptionError(
        'deprecation.sunset',
        options.sunset,
        `a date not before deprecatedAt (${deprecatedAt.toISOString()})`,
      );
    }
    headers.sunset = sunset.toUTCString();
  }
  const links: WebLink[] = [];
  if (options.successor !== undefined)
    links.push({ rel: 'successor-version', href: uri('deprecation.successor', options.successor) });
  if (options.policy !== undefined) links.push({ rel: 'deprecation', href: uri('deprecation.policy', options.policy) });
  if (links.length > 0) headers.link = formatLinkHeader(links);
  return headers;
}

/** A valid Date from a Date, an ISO string or epoch milliseconds. */
function date(option: string, value: unknown): Date {
  const parsed =
    value instanceof Date
      ? value
      : typeof value === 'string' || typeof value === 'number'
        ? new Date(value)
        : undefined;
  if (parsed === undefined || Number.isNaN(parsed.getTime())) {
    throw new InvalidOptionError(option, value, 'a valid Date, ISO date string or epoch milliseconds');
  }
  return parsed;
}

function uri(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || /[<>\s"]/.test(value)) {
    throw new InvalidOptionError(option, value, 'a URI or absolute path');
  }
  return value;
}
