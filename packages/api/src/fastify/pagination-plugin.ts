import type {
  FastifyBaseLogger,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  FastifyTypeProviderDefault,
  RawServerDefault,
} from 'fastify';
import fp from 'fastify-plugin';
import type { CursorPage } from '../cursor-pagination.js';
import { cursorPaginationLinks, formatLinkHeader, offsetPaginationLinks } from '../link-header.js';
import type { LinkOptions } from '../link-header.js';
import { createPaginator } from '../pagination.js';
import type { Pagination, PaginationInput, PaginationOptions } from '../pagination.js';
import { cursorResponse, paginatedResponse } from '../response.js';
import type { CursorMeta } from '../response.js';
import type { PaginationMeta } from '../pagination.js';
import { check } from '../errors.js';
import { appendLink } from './reply-headers.js';

export interface PaginationPluginOptions extends PaginationOptions, LinkOptions {
  /**
   * Send RFC 8288 `Link` headers (first/prev/next/last, or next for cursors) from
   * `reply.paginated()` / `reply.cursorPaginated()`.
   * @default true
   */
  links?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * `page`/`limit` of the query string, parsed and validated (a bad value throws
     * INVALID_PAGINATION, answered as a 400 problem by the error handler plugin).
     */
    readonly pagination: Pagination;
  }
  interface FastifyReply {
    /** Sends `{ success, data, meta: { page, limit, total, totalPages } }` with `Link` headers. */
    paginated(data: readonly unknown[], total: number, pagination?: Pagination): FastifyReply;
    /** Sends `{ success, data, meta: { limit, nextCursor, hasMore } }` with a `Link: rel="next"`. */
    cursorPaginated(page: CursorPage<unknown>, limit: number): FastifyReply;
  }
}

/** Envelope types sent by the reply decorators, for route response schemas and tests. */
export interface PaginatedBody<T> {
  success: true;
  data: readonly T[];
  meta: PaginationMeta;
}
export interface CursorBody<T> {
  success: true;
  data: T[];
  meta: CursorMeta;
}

/** Adds `request.pagination`, `reply.paginated()` and `reply.cursorPaginated()`. */
export const paginationPlugin: FastifyPluginAsync<PaginationPluginOptions> = fp<
  PaginationPluginOptions,
  RawServerDefault,
  FastifyTypeProviderDefault,
  FastifyBaseLogger,
  FastifyPluginAsync<PaginationPluginOptions>
>(
  // async: an invalid option rejects app.ready() instead of throwing out of the loader.
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, options) => {
    const { links: linksOption, baseUrl, parameters, ...paginationOptions } = options;
    const paginate = createPaginator(paginationOptions);
    const links = check.boolean('links', linksOption ?? true);
    const linkOptions: LinkOptions = {
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(parameters === undefined ? {} : { parameters }),
    };
    // Validates baseUrl now rather than on the first request.
    if (baseUrl !== undefined) offsetPaginationLinks('/', { page: 1, limit: 1, total: 0 }, linkOptions);
    const parsed = new WeakMap<FastifyRequest, Pagination>();
    const names = { page: 'page', limit: 'limit', ...parameters };

    app.decorateRequest('pagination', {
      getter(this: FastifyRequest): Pagination {
        let pagination = parsed.get(this);
        if (pagination === undefined) {
          const query = (typeof this.query === 'object' && this.query !== null ? this.query : {}) as Record<
            string,
            unknown
          >;
          const input: PaginationInput = { page: query[names.page], limit: query[names.limit] };
          pagination = paginate(input);
          parsed.set(this, pagination);
        }
        return pagination;
      },
    });

    app.decorateReply(
      'paginated',
      function paginated(
        this: FastifyReply,
        data: readonly unknown[],
        total: number,
        pagination: Pagination = this.request.pagination,
      ): FastifyReply {
        const body = paginatedResponse(data, total, pagination);
        if (links) appendLink(this, formatLinkHeader(offsetPaginationLinks(this.request.url, body.meta, linkOptions)));
        return this.send(body);
      },
    );

    app.decorateReply(
      'cursorPaginated',
      function cursorPaginated(this: FastifyReply, page: CursorPage<unknown>, limit: number): FastifyReply {
        if (links) {
          appendLink(
            this,
            formatLinkHeader(
              cursorPaginationLinks(this.request.url, { nextCursor: page.nextCursor, limit }, linkOptions),
            ),
          );
        }
        return this.send(cursorResponse(page, limit));
      },
    );
  },
  { name: '@infra/api/pagination', fastify: '5.x' },
);
