import { describe, expect, it } from 'vitest';
import { isApiError } from './errors.js';
import { createPagination, createPaginator, paginationMeta } from './pagination.js';
import { paginatedResponse, successResponse } from './response.js';

describe('createPagination', () => {
  it('runs the documented usage as written: query strings in, the paginated envelope out', async () => {
    const challenges = Array.from({ length: 23 }, (_, i) => ({ id: i + 1 }));
    const challengeService = {
      listChallenges: async ({ offset, limit }: { offset: number; limit: number }) => ({
        data: challenges.slice(offset, offset + limit),
        total: challenges.length,
      }),
    };
    const req = { query: { page: '3', limit: '10' } as Record<string, string | undefined> };
    let sent: unknown;
    const res = { json: (body: unknown) => (sent = body) };

    const { page, limit } = req.query;
    const pagination = createPagination({ page, limit });
    const { data, total } = await challengeService.listChallenges(pagination);
    res.json({
      success: true,
      data,
      meta: { page: pagination.page, limit: pagination.limit, total, totalPages: Math.ceil(total / pagination.limit) },
    });

    expect(sent).toEqual({
      success: true,
      data: [{ id: 21 }, { id: 22 }, { id: 23 }],
      meta: { page: 3, limit: 10, total: 23, totalPages: 3 },
    });
    expect(paginatedResponse(data, total, pagination)).toEqual(sent);
  });

  it('applies defaults for absent or empty parameters and computes the SQL offset', () => {
    expect(createPagination({})).toEqual({ page: 1, limit: 20, offset: 0 });
    expect(createPagination({ page: undefined, limit: undefined })).toEqual({ page: 1, limit: 20, offset: 0 });
    expect(createPagination({ page: '', limit: '' })).toEqual({ page: 1, limit: 20, offset: 0 });
    expect(createPagination({ page: '4', limit: '25' })).toEqual({ page: 4, limit: 25, offset: 75 });
    expect(createPagination({ page: 2, limit: 5 })).toEqual({ page: 2, limit: 5, offset: 5 });
    expect(createPagination({ page: '007' })).toEqual({ page: 7, limit: 20, offset: 120 });
    expect(createPagination({}, { defaultLimit: 50, maxLimit: 200 })).toEqual({ page: 1, limit: 50, offset: 0 });
  });

  it.each([
    ['page', 'abc'],
    ['page', '-1'],
    ['page', '0'],
    ['page', '1.5'],
    ['page', ' 2'],
    ['page', '1e3'],
    ['page', '0x10'],
    ['page', ['1', '2']],
    ['page', 1.5],
    ['page', Number.NaN],
    ['limit', 'abc'],
    ['limit', '-1'],
    ['limit', '1.5'],
    ['limit', '0'],
    ['limit', { $gt: 1 }],
  ])('refuses %s=%j with INVALID_PAGINATION naming the parameter and value', (parameter, value) => {
    let caught: unknown;
    try {
      createPagination({ [parameter]: value });
    } catch (error) {
      caught = error;
    }
    expect(isApiError(caught, 'INVALID_PAGINATION')).toBe(true);
    const error = caught as Error & { parameter: string; value: unknown };
    expect(error.parameter).toBe(parameter);
    expect(error.value).toEqual(value);
    expect(error.message).toContain(`"${parameter}"`);
    if (typeof value === 'string') expect(error.message).toContain(JSON.stringify(value));
  });

  it('refuses a limit above the cap by default, or clamps it when asked', () => {
    expect(() => createPagination({ limit: '101' })).toThrow(
      /Invalid "limit": expected an integer from 1 to 100, got "101"/,
    );
    expect(createPagination({ limit: '100' }).limit).toBe(100);
    expect(createPagination({ limit: '5000' }, { overLimit: 'clamp' })).toEqual({ page: 1, limit: 100, offset: 0 });
  });

  it('refuses pages beyond maxPage or whose offset is not a safe integer', () => {
    expect(() => createPagination({ page: '99999999999999999999' })).toThrow(/Invalid "page"/);
    expect(() => createPagination({ page: String(Number.MAX_SAFE_INTEGER), limit: '100' })).toThrow(/Invalid "page"/);
    expect(() => createPagination({ page: '11' }, { maxPage: 10 })).toThrow(
      /expected an integer from 1 to 10, got "11"/,
    );
    expect(createPagination({ page: '10' }, { maxPage: 10 }).offset).toBe(180);
  });

  it('validates its options with INVALID_OPTION naming the option', () => {
    expect(() => createPaginator({ maxLimit: 0 })).toThrow(/Invalid option "maxLimit"/);
    expect(() => createPaginator({ defaultLimit: 1.5 })).toThrow(/Invalid option "defaultLimit"/);
    expect(() => createPaginator({ defaultLimit: 500 })).toThrow(
      /Invalid option "defaultLimit": expected an integer <= maxLimit \(100\)/,
    );
    expect(() => createPaginator({ overLimit: 'ignore' as 'clamp' })).toThrow(/Invalid option "overLimit"/);
    let caught: unknown;
    try {
      createPaginator({ maxPage: -1 });
    } catch (error) {
      caught = error;
    }
    expect(isApiError(caught, 'INVALID_OPTION')).toBe(true);
  });
});

describe('response envelopes', () => {
  it('builds the success envelope with and without meta', () => {
    expect(successResponse({ id: 1 })).toEqual({ success: true, data: { id: 1 } });
    expect(Object.keys(successResponse(null))).toEqual(['success', 'data']);
    expect(successResponse([1], { cached: true })).toEqual({ success: true, data: [1], meta: { cached: true } });
  });

  it('computes totalPages and refuses a bad total', () => {
    const pagination = createPagination({ page: '1', limit: '10' });
    expect(paginationMeta(pagination, 0)).toEqual({ page: 1, limit: 10, total: 0, totalPages: 0 });
    expect(paginationMeta(pagination, 10).totalPages).toBe(1);
    expect(paginationMeta(pagination, 11).totalPages).toBe(2);
    expect(() => paginatedResponse([], -1, pagination)).toThrow(/Invalid option "total"/);
    expect(() => paginatedResponse([], 2.5, pagination)).toThrow(/Invalid option "total"/);
  });
});
