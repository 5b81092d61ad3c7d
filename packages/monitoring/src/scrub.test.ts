import { describe, expect, it } from 'vitest';
import { createScrubber } from './scrub.js';

const R = '[REDACTED]';

describe('createScrubber', () => {
  const { scrub, scrubString } = createScrubber();

  it('redacts by key name at any depth, in headers, arrays, maps and errors', () => {
    const input = {
      request: {
        headers: { Authorization: 'Bearer abc.def', cookie: 'sid=1', 'x-api-key': 'k-123', accept: 'json' },
        body: {
          user: { email: 'a@b.c', password: 'hunter2', profile: { apiKey: 'xyz', nested: [{ client_secret: 's' }] } },
        },
      },
      usage: { promptTokens: 12, completionTokens: 30, max_tokens: 100 },
      refreshToken: 'r-1',
      map: new Map<string, unknown>([
        ['session_id', 'abc'],
        ['ok', 1],
      ]),
    };
    const out = scrub(input) as typeof input & { map: Record<string, unknown> };
    expect(out.request.headers).toEqual({ Authorization: R, cookie: R, 'x-api-key': R, accept: 'json' });
    expect(out.request.body.user).toEqual({
      email: 'a@b.c',
      password: R,
      profile: { apiKey: R, nested: [{ client_secret: R }] },
    });
    expect(out.usage).toEqual({ promptTokens: 12, completionTokens: 30, max_tokens: 100 });
    expect(out.refreshToken).toBe(R);
    expect(out.map).toEqual({ session_id: R, ok: 1 });
    expect(input.request.body.user.password).toBe('hunter2');
  });

  it('redacts secrets by value pattern inside strings', () => {
    const text = [
      'call failed with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-1',
      'key sk-proj-abcdefghijklmnopqrstuvwxyz012345 rejected',
      'connect postgres://app:s3cr3t@db:5432/prod',
      'GET /cb?code=1&access_token=tok123&x=2',
      '{"password":"hunter2","user":"ann"}',
      'aws AKIAABCDEFGHIJKLMNOP and gh ghp_abcdefghijklmnopqrstuvwxyz',
    ].join('\n');
    const out = scrubString(text);
    expect(out).not.toMatch(/eyJ|sk-proj|s3cr3t|tok123|hunter2|AKIAABCD|ghp_abc/);
    expect(out).toContain(`Bearer ${R}`);
    expect(out).toContain(`postgres://${R}@db:5432/prod`);
    expect(out).toContain('"user":"ann"');
    expect(out).toContain('x=2');
  });

  it('scrubs errors (message and stack), handles cycles, depth and fetch Headers', () => {
    const error = Object.assign(new Error('login failed for password=hunter2'), { code: 'E_AUTH', token: 't' });
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } };
    const headers = new Headers({ authorization: 'Basic dXNlcjpwYXNz', 'content-type': 'text/plain' });
    const out = scrub({ error, cyclic, deep, headers, fn: () => 1 }) as Record<string, Record<string, unknown>>;
    expect(out.error!.message).toBe(`login failed for password=${R}`);
    expect(out.error!.stack).not.toContain('hunter2');
    expect(out.error!).toMatchObject({ name: 'Error', code: 'E_AUTH', token: R });
    expect(out.cyclic).toEqual({ name: 'a', self: '[Circular]' });
    expect(JSON.stringify(out.deep)).toContain('[Truncated]');
    expect(out.headers).toEqual({ authorization: R, 'content-type': 'text/plain' });
    expect('fn' in out).toBe(false);
  });

  it('takes extra keys and patterns, and validates them', () => {
    const custom = createScrubber({
      keys: ['ssn', /^x-internal-/i],
      patterns: [/\b\d{4}-\d{4}-\d{4}-\d{4}\b/g],
      replacement: '***',
    });
    expect(custom.scrub({ SSN: '1', 'X-Internal-Trace': 'a', note: 'card 1234-5678-9012-3456' })).toEqual({
      SSN: '***',
      'X-Internal-Trace': '***',
      note: 'card ***',
    });
    expect(() => createScrubber({ patterns: [/x/] })).toThrow(/"scrub.patterns".*global/);
    expect(() => createScrubber({ keys: [''] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
