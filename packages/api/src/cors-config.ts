import { InvalidOptionError, UnsafeCorsConfigError, check } from './errors.js';

export interface CorsConfigOptions {
  /**
   * Who may call the API from a browser:
   * - exact origins: `'https://app.example.com'`, `'http://localhost:5173'` (no path, no trailing slash);
   * - subdomain patterns: `'https://*.example.com'` (one or more labels in place of `*`);
   * - anchored regular expressions: `/^https:\/\/pr-\d+\.preview\.example\.com$/`;
   * - `'*'` for any origin: only without `credentials`.
   */
  origins: '*' | readonly (string | RegExp)[];
  /**
   * Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). Refused together with `'*'`,
   * `'null'` or a pattern that admits any origin.
   * @default false
   */
  credentials?: boolean;
  /**
   * Methods allowed in preflight responses.
   * @default ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']
   */
  methods?: readonly string[];
  /**
   * Request headers allowed in preflight responses.
   * @default ['Accept', 'Accept-Version', 'Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'X-Request-Id']
   */
  allowedHeaders?: readonly string[];
  /**
   * Response headers scripts may read.
   * @default ['Link', 'Retry-After', 'Deprecation', 'Sunset', 'X-Request-Id']
   */
  exposedHeaders?: readonly string[];
  /**
   * How long a browser may cache a preflight response, in milliseconds (sent as whole seconds in
   * `Access-Control-Max-Age`, rounded up).
   * @default 600_000 (10 minutes)
   */
  maxAgeMs?: number;
}

/** Options for `@fastify/cors`, produced by {@link createCorsConfig}. */
export interface CorsConfig {
  origin: '*' | ((origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) => void);
  credentials: boolean;
  methods: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  /** Seconds, as `@fastify/cors` takes it. */
  maxAge: number;
  strictPreflight: true;
  hideOptionsRoute: true;
}

const CANARY = 'https://canary-origin.invalid';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Validates a CORS allowlist and turns it into `@fastify/cors` options. Unsafe setups fail here,
 * at start, with UNSAFE_CORS_CONFIG; malformed entries with INVALID_OPTION naming the entry.
 */
export function createCorsConfig(options: CorsConfigOptions): CorsConfig {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object with "origins"');
  }
  if ('maxAge' in options) {
    // The seconds-valued spelling of @fastify/cors: refused rather than silently ignored.
    throw new InvalidOptionError('maxAge', (options as { maxAge?: unknown }).maxAge, 'maxAgeMs (milliseconds) instead');
  }
  const credentials = check.boolean('credentials', options.credentials ?? false);
  const common = {
    credentials,
    methods: tokens('methods', options.methods, ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
    allowedHeaders: tokens('allowedHeaders', options.allowedHeaders, [
      'Accept',
      'Accept-Version',
      'Authorization',
      'Content-Type',
      'If-Match',
      'If-None-Match',
      'X-Request-Id',
    ]),
    exposedHeaders: tokens('exposedHeaders', options.exposedHeaders, [
      'Link',
      'Retry-After',
      'Deprecation',
      'Sunset',
      'X-Request-Id',
    ]),
    maxAge: Math.ceil(check.nonNegative('maxAgeMs', options.maxAgeMs ?? 600_000) / 1000),
    strictPreflight: true as const,
    hideOptionsRoute: true as const,
  };

  const origins: unknown = options.origins;
  if (origins === '*' || origins === true || (Array.isArray(origins) && origins.includes('*'))) {
    if (credentials) {
      throw new UnsafeCorsConfigError(
        'origins',
        origins,
        "any origin together with credentials: true lets every website act with your users' cookies; list the origins",
      );
    }
    if (origins === true)
      throw new InvalidOptionError('origins', origins, '"*" or a list of origins (reflecting any origin is "*")');
    return { origin: '*', ...common };
  }
  const isAllowed = createOriginMatcher(origins as readonly (string | RegExp)[]);
  if (credentials && isAllowed(CANARY)) {
    throw new UnsafeCorsConfigError(
      'origins',
      origins,
      'a pattern admits any origin, which is refused with credentials: true',
    );
  }
  return {
    origin: (origin, callback) => {
      callback(null, origin !== undefined && isAllowed(origin));
    },
    ...common,
  };
}

/**
 * A predicate for an origin allowlist (exact origins, `*.` subdomain patterns, anchored RegExps).
 * Throws INVALID_OPTION / UNSAFE_CORS_CONFIG for entries that cannot be matched safely.
 */
export function createOriginMatcher(origins: readonly (string | RegExp)[]): (origin: string) => boolean {
  if (!Array.isArray(origins) || origins.length === 0) {
    throw new InvalidOptionError('origins', origins, '"*" or a non-empty array of origins');
  }
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  (origins as unknown[]).forEach((entry, index) => {
    const option = `origins[${index}]`;
    if (entry instanceof RegExp) {
      patterns.push(checkRegExp(option, entry));
    } else if (typeof entry === 'string' && entry.includes('*')) {
      patterns.push(wildcard(option, entry));
    } else if (typeof entry === 'string') {
      exact.add(checkOrigin(option, entry));
    } else {
      throw new InvalidOptionError(option, entry, 'an origin string or a RegExp');
    }
  });
  return (origin) => exact.has(origin) || patterns.some((pattern) => pattern.test(origin));
}

function checkOrigin(option: string, value: string): string {
  if (value === 'null') {
    throw new UnsafeCorsConfigError(
      option,
      value,
      'sandboxed iframes and local files all send "null", so any page can claim it',
    );
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  // Browsers send the serialized origin; anything else (trailing slash, path, upper case) never matches.
  if (parsed === undefined || parsed.origin === 'null' || parsed.origin !== value) {
    throw new InvalidOptionError(
      option,
      value,
      'an origin like "https://app.example.com" (scheme, host, optional port; no path or trailing slash)',
    );
  }
  return value;
}

function wildcard(option: string, value: string): RegExp {
  const match = /^(https?):\/\/\*\.([a-z0-9-]+(?:\.[a-z0-9-]+)+)(:\d{1,5})?$/.exec(value);
  if (match === null) {
    throw new InvalidOptionError(
      option,
      value,
      'a subdomain pattern like "https://*.example.com": "*" only as the leftmost labels, under a domain with at least two labels',
    );
  }
  const [, scheme, domain, port] = match as unknown as [string, string, string, string | undefined];
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${scheme}://(?:[a-z0-9-]+\\.)+${escape(domain)}${escape(port ?? '')}$`);
}

function checkRegExp(option: string, pattern: RegExp): RegExp {
  if (pattern.global || pattern.sticky) {
    throw new InvalidOptionError(option, pattern, 'a RegExp without the g or y flag (they make test() stateful)');
  }
  // An unanchored /example\.com/ also admits https://example.com.attacker.net.
  if (!pattern.source.startsWith('^') || !pattern.source.endsWith('$') || pattern.source.endsWith('\\$')) {
    throw new UnsafeCorsConfigError(
      option,
      pattern,
      'a RegExp must be anchored with ^ and $, or other sites match it too',
    );
  }
  return pattern;
}

function tokens(option: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value)) throw new InvalidOptionError(option, value, 'an array of header or method names');
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string' || !TOKEN.test(item)) {
      throw new InvalidOptionError(`${option}[${index}]`, item, 'an HTTP token (header or method name)');
    }
    return item;
  });
}
