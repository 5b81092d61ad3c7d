import { createHash } from 'node:crypto';
import { InvalidOptionError, check } from './errors.js';
import type { OutgoingRequest } from './request-info.js';

/**
 * What the response cache needs; `@infra/cache`'s `CacheService` fits as it is: `get` resolves
 * undefined on a miss, `ttl` is in seconds.
 */
export interface ResponseCacheStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, options: { ttl: number }): Promise<unknown>;
}

export interface ResponseCacheOptions {
  /** The cache, e.g. an `@infra/cache` CacheService. It is never closed by the client. */
  store: ResponseCacheStore;
  /** Lifetime of a cached response, in ms (handed to the store in whole seconds, rounded up). @default 3_600_000 */
  ttlMs?: number;
  /** Prefix of the cache keys. @default 'openai:response:' */
  keyPrefix?: string;
}

/** What is stored per response: JSON-safe, so any cache serializer can hold it. */
interface CachedResponse {
  v: 1;
  status: number;
  contentType: string;
  body: string;
}

export class ResponseCache {
  readonly store: ResponseCacheStore;
  readonly ttlMs: number;
  readonly keyPrefix: string;

  constructor(options: ResponseCacheOptions) {
    const store = options.store as Partial<ResponseCacheStore> | undefined;
    if (typeof store?.get !== 'function' || typeof store.set !== 'function') {
      throw new InvalidOptionError(
        'cache.store',
        options.store,
        'an object with get(key) and set(key, value, { ttl })',
      );
    }
    this.store = options.store;
    this.ttlMs = check.positive('cache.ttlMs', options.ttlMs ?? 3_600_000);
    this.keyPrefix = check.nonEmptyString('cache.keyPrefix', options.keyPrefix ?? 'openai:response:');
  }

  /**
   * Only deterministic requests are cached: a JSON POST with `temperature: 0` that does not
   * stream. Anything else could legitimately answer differently each time.
   */
  cacheable(request: OutgoingRequest): boolean {
    return (
      request.method === 'POST' && !request.stream && request.rawBody !== undefined && request.body?.temperature === 0
    );
  }

  /** Key: hash of the account scope, the URL and the exact body. */
  key(request: OutgoingRequest, scope: string): string {
    const hash = createHash('sha256')
      .update(scope)
      .update('\n')
      .update(request.url)
      .update('\n')
      .update(request.rawBody ?? '');
    return this.keyPrefix + hash.digest('hex');
  }

  async get(key: string): Promise<Response | undefined> {
    const entry = (await this.store.get(key)) as Partial<CachedResponse> | undefined | null;
    if (!entry || entry.v !== 1 || typeof entry.body !== 'string' || typeof entry.status !== 'number') return undefined;
    return new Response(entry.body, {
      status: entry.status,
      headers: { 'content-type': entry.contentType ?? 'application/json', 'x-infra-cache': 'hit' },
    });
  }

  async set(key: string, status: number, contentType: string, body: string): Promise<void> {
    const entry: CachedResponse = { v: 1, status, contentType, body };
    await this.store.set(key, entry, { ttl: Math.ceil(this.ttlMs / 1000) });
  }
}
