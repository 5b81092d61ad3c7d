import { describe, expect, it } from 'vitest';
import { createCorsConfig, createOriginMatcher } from './cors-config.js';
import { isApiError } from './errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (isApiError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('createCorsConfig refusals', () => {
  it.each([
    ['"*"', '*'],
    ['["*"]', ['*']],
    ['a RegExp matching anything', [/^.*$/]],
    ['a RegExp matching any https origin', [/^https:\/\/.+$/]],
  ])('refuses %s with credentials: true (UNSAFE_CORS_CONFIG)', (_label, origins) => {
    expect(codeOf(() => createCorsConfig({ origins: origins as never, credentials: true }))).toBe('UNSAFE_CORS_CONFIG');
  });

  it('refuses a reflected origin (true) with credentials, and asks for "*" without', () => {
    expect(codeOf(() => createCorsConfig({ origins: true as never, credentials: true }))).toBe('UNSAFE_CORS_CONFIG');
    expect(codeOf(() => createCorsConfig({ origins: true as never }))).toBe('INVALID_OPTION');
  });

  it('refuses "null" and unanchored or stateful regular expressions', () => {
    expect(codeOf(() => createCorsConfig({ origins: ['null'] }))).toBe('UNSAFE_CORS_CONFIG');
    expect(codeOf(() => createCorsConfig({ origins: [/example\.com/] }))).toBe('UNSAFE_CORS_CONFIG');
    expect(codeOf(() => createCorsConfig({ origins: [/^https:\/\/example\.com/] }))).toBe('UNSAFE_CORS_CONFIG');
    expect(codeOf(() => createCorsConfig({ origins: [/^https:\/\/example\.com$/g] }))).toBe('INVALID_OPTION');
  });

  it.each([
    'https://app.example.com/',
    'https://app.example.com/path',
    'HTTPS://APP.EXAMPLE.COM',
    'app.example.com',
    'https://*example.com',
    'https://*.com',
    'https://app.*.example.com',
    'https://*',
  ])('refuses the malformed origin %j naming it', (origin) => {
    let message = '';
    try {
      createCorsConfig({ origins: ['https://ok.example.com', origin] });
    } catch (error) {
      expect(isApiError(error, 'INVALID_OPTION')).toBe(true);
      message = (error as Error).message;
    }
    expect(message).toContain('"origins[1]"');
    expect(message).toContain(JSON.stringify(origin));
  });

  it('refuses bad methods, headers and maxAgeMs', () => {
    expect(() => createCorsConfig({ origins: ['https://a.example.com'], methods: ['GET', 'BAD METHOD'] })).toThrow(
      /"methods\[1\]"/,
    );
    expect(() => createCorsConfig({ origins: ['https://a.example.com'], allowedHeaders: 'X-A' as never })).toThrow(
      /"allowedHeaders"/,
    );
    expect(() => createCorsConfig({ origins: ['https://a.example.com'], maxAgeMs: -1 })).toThrow(/"maxAgeMs".*got -1/);
    // The seconds-valued spelling of @fastify/cors is refused, not silently ignored.
    expect(() => createCorsConfig({ origins: ['https://a.example.com'], maxAge: 600 } as never)).toThrow(
      /Invalid option "maxAge": expected maxAgeMs \(milliseconds\) instead, got 600/,
    );
    expect(() => createCorsConfig({ origins: [] })).toThrow(/"origins"/);
  });
});

describe('createCorsConfig output', () => {
  it('allows "*" without credentials as a static origin', () => {
    const config = createCorsConfig({ origins: '*' });
    expect(config.origin).toBe('*');
    expect(config.credentials).toBe(false);
  });

  it('answers the allowlist through an origin callback', () => {
    const config = createCorsConfig({
      origins: ['https://app.example.com', 'https://*.preview.example.com'],
      credentials: true,
    });
    const decide = (origin: string | undefined): boolean => {
      let allowed: boolean | undefined;
      if (typeof config.origin === 'function') config.origin(origin, (_error, allow) => (allowed = allow));
      return allowed!;
    };
    expect(decide('https://app.example.com')).toBe(true);
    expect(decide('https://pr-1.preview.example.com')).toBe(true);
    expect(decide('https://evil.example.com')).toBe(false);
    expect(decide(undefined)).toBe(false);
    expect(config).toMatchObject({ credentials: true, maxAge: 600, strictPreflight: true });
    expect(config.exposedHeaders).toContain('Link');
  });

  it('sends maxAgeMs as whole seconds, rounded up', () => {
    expect(createCorsConfig({ origins: '*', maxAgeMs: 1500 }).maxAge).toBe(2);
    expect(createCorsConfig({ origins: '*', maxAgeMs: 0 }).maxAge).toBe(0);
  });
});

describe('createOriginMatcher', () => {
  const allowed = createOriginMatcher([
    'https://app.example.com',
    'https://*.example.org',
    'http://localhost:5173',
    /^https:\/\/pr-\d+\.example\.net$/,
  ]);

  it.each([
    ['https://app.example.com', true],
    ['https://a.example.org', true],
    ['https://a.b.example.org', true],
    ['http://localhost:5173', true],
    ['https://pr-42.example.net', true],
    ['https://example.org', false],
    ['https://evilexample.org', false],
    ['https://a.example.org.evil.net', false],
    ['http://a.example.org', false],
    ['https://app.example.com:8443', false],
    ['http://localhost:5174', false],
    ['https://pr-x.example.net', false],
    ['null', false],
  ])('%s -> %s', (origin, expected) => {
    expect(allowed(origin)).toBe(expected);
  });
});
