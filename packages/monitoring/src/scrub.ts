import { InvalidOptionError } from './errors.js';
import { integer, optionalObject } from './validate.js';

/** Options of {@link createScrubber}. */
export interface ScrubOptions {
  /** Extra key names (exact, case-insensitive) or patterns whose values are redacted. @default [] */
  keys?: (string | RegExp)[];
  /** Extra patterns redacted inside any string. Must be global (`/…/g`). @default [] */
  patterns?: RegExp[];
  /** What a redacted value becomes. @default '[REDACTED]' */
  replacement?: string;
  /** Depth past which nested values are dropped. @default 8 */
  maxDepth?: number;
}

/** Redacts secrets from values before they leave the process. */
export interface Scrubber {
  /** A deep copy of `value` with secrets redacted (never mutates the input). */
  scrub: (value: unknown) => unknown;
  /** `text` with secret-looking substrings redacted. */
  scrubString: (text: string) => string;
  /** True when a value under this key is redacted whatever it holds. */
  isSensitiveKey: (key: string) => boolean;
}

// Substrings of key names whose values are secrets: headers, credentials, tokens, keys.
const SENSITIVE_KEY =
  /authorization|cookie|passw(or)?d|passwd|^pwd$|^pass$|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credential|session[-_]?id|^sid$|signature|x-api-key|^cvv$|card[-_]?number/i;
// Counts of LLM tokens are metrics, not secrets.
const TOKEN_COUNT = /tokens$|token[-_]?count$|^max[-_]?tokens$/i;

// [pattern, replacement template]: `%R` stands for the configured replacement text.
const DEFAULT_PATTERNS: readonly [RegExp, string][] = [
  // Authorization header values: "Bearer abc", "Basic dXNlcjpwYXNz", "Token abc".
  [/\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9\-._~+/]+=*/gi, '$1 %R'],
  // JSON web tokens.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '%R'],
  // OpenAI / Anthropic style keys (sk-..., sk-proj-..., sk-ant-...).
  [/\bsk-[A-Za-z0-9_-]{16,}/g, '%R'],
  // Stripe, GitHub, Slack, AWS access key ids.
  [/\b[spr]k_(live|test)_[A-Za-z0-9]{10,}/g, '%R'],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, '%R'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, '%R'],
  [/\bAKIA[0-9A-Z]{16}\b/g, '%R'],
  // user:password@ in URLs (postgres://user:pw@host, https://user:pw@host).
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1%R@'],
  // key=value and key: value pairs in query strings, logs and JSON text (an auth scheme or an
  // already redacted value is left to the rules above).
  [
    /((?:password|passwd|pwd|secret|token|access_token|refresh_token|api[_-]?key|apikey|client_secret|authorization)["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic|Token|Digest)\s)[^"'\s&,;}[][^"'\s&,;}]*/gi,
    '$1%R',
  ],
];

/** Creates a scrubber with the default rules plus the given ones. */
export function createScrubber(options: ScrubOptions = {}): Scrubber {
  const o = optionalObject('scrub', options) as ScrubOptions;
  const replacement = o.replacement ?? '[REDACTED]';
  if (typeof replacement !== 'string') throw new InvalidOptionError('scrub.replacement', replacement, 'a string');
  const maxDepth = o.maxDepth === undefined ? 8 : integer('scrub.maxDepth', o.maxDepth, 1);
  const exact = new Set<string>();
  const keyPatterns: RegExp[] = [SENSITIVE_KEY];
  for (const key of o.keys ?? []) {
    if (typeof key === 'string' && key.length > 0) exact.add(key.toLowerCase());
    else if (key instanceof RegExp) keyPatterns.push(key);
    else throw new InvalidOptionError('scrub.keys', key, 'a non-empty string or a RegExp');
  }
  const escaped = replacement.replaceAll('$', '$$$$');
  const patterns: [RegExp, string][] = DEFAULT_PATTERNS.map(([re, template]) => [re, template.replace('%R', escaped)]);
  for (const pattern of o.patterns ?? []) {
    if (!(pattern instanceof RegExp) || !pattern.global) {
      throw new InvalidOptionError('scrub.patterns', pattern, 'a global RegExp (with the g flag)');
    }
    patterns.push([pattern, escaped]);
  }

  const isSensitiveKey = (key: string): boolean =>
    exact.has(key.toLowerCase()) ||
    keyPatterns.some((re) => {
      re.lastIndex = 0;
      return re.test(key);
    });

  const scrubString = (text: string): string => {
    let result = text;
    for (const [re, replace] of patterns) result = result.replace(re, replace);
    return result;
  };

  const walk = (value: unknown, depth: number, seen: WeakSet<object>): unknown => {
    if (typeof value === 'string') return scrubString(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    if (typeof value !== 'object' || value === null) return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= maxDepth) return '[Truncated]';
    if (value instanceof Date) return value.toISOString();
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, seen));
      if (value instanceof Set) return [...value].map((item) => walk(item, depth + 1, seen));
      return fromEntries(entriesOf(value), depth, seen);
    } finally {
      seen.delete(value);
    }
  };

  const fromEntries = (entries: Iterable<[string, unknown]>, depth: number, seen: WeakSet<object>) => {
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      if (isSensitiveKey(key) && !(TOKEN_COUNT.test(key) && typeof item === 'number')) {
        out[key] = replacement;
      } else {
        const scrubbed = walk(item, depth + 1, seen);
        if (scrubbed !== undefined) out[key] = scrubbed;
      }
    }
    return out;
  };

  return { scrub: (value) => walk(value, 0, new WeakSet()), scrubString, isSensitiveKey };
}

function entriesOf(value: object): Iterable<[string, unknown]> {
  if (value instanceof Map) return [...value].map(([k, v]) => [String(k), v] as [string, unknown]);
  if (value instanceof Error) {
    const own = Object.entries(value).filter(([key]) => key !== 'stack' && key !== 'message');
    return [['name', value.name], ['message', value.message], ...own, ['stack', value.stack]];
  }
  // Fetch Headers and similar: iterable of [name, value] with a get() method.
  const maybeHeaders = value as { entries?: unknown; get?: unknown };
  if (typeof maybeHeaders.entries === 'function' && typeof maybeHeaders.get === 'function') {
    return [...(maybeHeaders.entries as () => Iterable<[string, unknown]>)()];
  }
  return Object.entries(value);
}
