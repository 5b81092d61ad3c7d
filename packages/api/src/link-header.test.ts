import { describe, expect, it } from 'vitest';
import { cursorPaginationLinks, formatLinkHeader, offsetPaginationLinks } from './link-header.js';

describe('Link headers (RFC 8288)', () => {
  it('gives first/prev/next/last for a middle page and keeps other query parameters', () => {
    const links = offsetPaginationLinks('/v1/challenges?status=open&page=2&limit=10', {
      page: 2,
      limit: 10,
      total: 45,
    });
    expect(formatLinkHeader(links)).toBe(
      [
        '</v1/challenges?status=open&page=1&limit=10>; rel="first"',
        '</v1/challenges?status=open&page=1&limit=10>; rel="prev"',
        '</v1/challenges?status=open&page=3&limit=10>; rel="next"',
        '</v1/challenges?status=open&page=5&limit=10>; rel="last"',
      ].join(', '),
    );
  });

  it('refuses a page, limit or total that would make nonsense links, naming it', () => {
    expect(() => offsetPaginationLinks('/items', { page: 1, limit: 0, total: 45 })).toThrow(
      /Invalid option "meta.limit": expected an integer >= 1, got 0/,
    );
    expect(() => offsetPaginationLinks('/items', { page: 1.5, limit: 10, total: 45 })).toThrow(/"meta.page".*got 1.5/);
    expect(() => offsetPaginationLinks('/items', { page: 1, limit: 10, total: -1 })).toThrow(/"meta.total".*got -1/);
    expect(() => cursorPaginationLinks('/items', { nextCursor: 'abc', limit: Number.NaN })).toThrow(/"page.limit"/);
    expect(() => cursorPaginationLinks('/items', { nextCursor: 42 as never, limit: 10 })).toThrow(
      /"page.nextCursor".*got 42/,
    );
    expect(() => formatLinkHeader('</a>; rel="next"' as never)).toThrow(/Invalid option "links"/);
  });

  it('omits prev on the first page and next on the last one', () => {
    const first = offsetPaginationLinks('/items', { page: 1, limit: 20, total: 45 }).map((l) => l.rel);
    expect(first).toEqual(['first', 'next', 'last']);
    const last = offsetPaginationLinks('/items', { page: 3, limit: 20, total: 45 }).map((l) => l.rel);
    expect(last).toEqual(['first', 'prev', 'last']);
    const empty = offsetPaginationLinks('/items', { page: 1, limit: 20, total: 0 });
    expect(empty).toEqual([
      { rel: 'first', href: '/items?page=1&limit=20' },
      { rel: 'last', href: '/items?page=1&limit=20' },
    ]);
  });

  it('points prev at the last page when the client asked beyond it', () => {
    const links = offsetPaginationLinks('/items?page=9', { page: 9, limit: 20, total: 45 });
    expect(links.find((l) => l.rel === 'prev')?.href).toBe('/items?page=3&limit=20');
    expect(links.some((l) => l.rel === 'next')).toBe(false);
  });

  it('builds absolute links from baseUrl and refuses a baseUrl with a path', () => {
    const links = offsetPaginationLinks(
      '/items?page=1',
      { page: 1, limit: 10, total: 30 },
      { baseUrl: 'https://api.example.com' },
    );
    expect(links[0]?.href).toBe('https://api.example.com/items?page=1&limit=10');
    expect(() =>
      offsetPaginationLinks('/items', { page: 1, limit: 10, total: 30 }, { baseUrl: 'https://api.example.com/api' }),
    ).toThrow(/Invalid option "baseUrl"/);
  });

  it('encodes query values and honours custom parameter names', () => {
    const links = offsetPaginationLinks(
      '/search?q=a b<c>',
      { page: 1, limit: 5, total: 10 },
      { parameters: { page: 'p', limit: 'size' } },
    );
    expect(links[1]?.href).toBe('/search?q=a+b%3Cc%3E&p=2&size=5');
    expect(() => formatLinkHeader(links)).not.toThrow();
  });

  it('gives a next link for a cursor page and none on the last page', () => {
    expect(cursorPaginationLinks('/feed?limit=2', { nextCursor: 'abc.def', limit: 2 })).toEqual([
      { rel: 'next', href: '/feed?limit=2&cursor=abc.def' },
    ]);
    expect(cursorPaginationLinks('/feed', { nextCursor: null, limit: 2 })).toEqual([]);
  });

  it('refuses hrefs and relations that would break the header', () => {
    expect(() => formatLinkHeader([{ rel: 'next', href: '/a>; rel="evil"' }])).toThrow(/Invalid option "href"/);
    expect(() => formatLinkHeader([{ rel: 'next"', href: '/a' }])).toThrow(/Invalid option "rel"/);
  });
});
