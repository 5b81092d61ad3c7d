import type { Logger } from '@infra/core';
import { logTarget, type PluginLoggerOption } from './log-target.js';
import { createHash } from 'node:crypto';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { InvalidOptionError, StoreUnavailableError, check } from '../errors.js';
import type { IdempotencyRecord, IdempotencyStore } from '../idempotency-store.js';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../problem-details.js';
import { resolvePluginOptions } from './resolve-plugin-options.js';

export interface IdempotencyPluginOptions extends PluginLoggerOption {
  /** Where keys and stored responses live: `MemoryIdempotencyStore`, `RedisIdempotencyStore` or your own. */
  store: IdempotencyStore;
  /**
   * How long a response is replayed for its key, in ms.
   * @default 86_400_000 (24 h)
   */
  ttlMs?: number;
  /**
   * How long a key stays claimed by a request still running, in ms: a process that dies mid-request
   * frees its keys after this.
   * @default 60_000
   */
  lockTtlMs?: number;
  /**
   * Request header holding the key.
   * @default 'idempotency-key'
   */
  header?: string;
  /**
   * Methods the plugin acts on; others pass untouched.
   * @default ['POST', 'PATCH']
   */
  methods?: string[];
  /**
   * Refuse a request of those methods without a key (400 `IDEMPOTENCY_KEY_MISSING`).
   * @default false
   */
  required?: boolean;
  /**
   * Namespace of a key, so that one client's key never meets another's: e.g. the user id.
   * @default () => '' (keys are shared by every client of the route)
   */
  scope?: (request: FastifyRequest) => string;
}

interface Claim {
  key: string;
  fingerprint: string;
  state: 'pending' | 'done';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** @internal The idempotency key this request claimed. */
    infraIdempotency?: Claim | undefined;
  }
}

const KEPT_HEADERS = ['content-type', 'location', 'etag', 'last-modified', 'link', 'cache-control'];

/**
 * `Idempotency-Key` support for the routes of the context it is registered in
 * (draft-ietf-httpapi-idempotency-key-header). The first request with a key runs; a later request
 * with the same key and the same method, route and body gets the stored response again with
 * `Idempotent-Replayed: true`; the same key with another body gets 422 `IDEMPOTENCY_KEY_REUSED`;
 * a duplicate that arrives while the first still runs gets 409 `IDEMPOTENCY_IN_FLIGHT`. Responses
 * below 500 are kept (except 409 and 429, which a retry may turn into a success); after a 5xx or an
 * aborted request the key is free again.
 */
export const idempotencyPlugin: FastifyPluginCallback<IdempotencyPluginOptions> = fp<IdempotencyPluginOptions>(
  (app, options, done) => {
    const o = resolvePluginOptions(resolve, options, done);
    if (o === undefined) return;
    app.decorateRequest('infraIdempotency', undefined);

    // After validation: a refused body never claims a key.
    app.addHook('preHandler', async (request, reply) => {
      if (!o.methods.has(request.method)) return;
      const raw = request.headers[o.header];
      if (raw === undefined) {
        if (o.required) return problem(request, reply, 400, 'IDEMPOTENCY_KEY_MISSING', `Send an ${o.header} header.`);
        return;
      }
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (value === undefined || !/^[\x21-\x7e]{1,255}$/.test(value)) {
        return problem(
          request,
          reply,
          400,
          'INVALID_IDEMPOTENCY_KEY',
          `${o.header} must be 1 to 255 visible ASCII characters.`,
        );
      }
      const key = createHash('sha256')
        .update(`${o.scope(request)}\n${request.method} ${request.routeOptions.url ?? ''}\n${value}`)
        .digest('base64url');
      const fingerprint = createHash('sha256')
        .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
        .digest('base64url');
      let found: Awaited<ReturnType<IdempotencyStore['begin']>>;
      try {
        found = await o.store.begin(key, fingerprint, o.lockTtlMs);
      } catch (error) {
        // Running without the store could run a duplicate: refuse (503) and let the client retry.
        throw new StoreUnavailableError('claim a key', error);
      }
      if (found.kind === 'started') {
        request.infraIdempotency = { key, fingerprint, state: 'pending' };
        return;
      }
      const held = found.kind === 'completed' ? found.record.fingerprint : found.fingerprint;
      if (held !== fingerprint) {
        return problem(
          request,
          reply,
          422,
          'IDEMPOTENCY_KEY_REUSED',
          `This ${o.header} was used for a request with another method, path or body.`,
        );
      }
      if (found.kind === 'in-flight') {
        reply.header('retry-after', '1');
        return problem(request, reply, 409, 'IDEMPOTENCY_IN_FLIGHT', 'A request with this key is still running.');
      }
      const { record } = found;
      return reply.code(record.status).headers(record.headers).header('idempotent-replayed', 'true').send(record.body);
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const claim = request.infraIdempotency;
      if (claim?.state !== 'pending') return payload;
      const status = reply.statusCode;
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
      if (status >= 500 || status === 409 || status === 429 || body === null) return payload;
      const headers: Record<string, string> = {};
      for (const name of KEPT_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
      }
      const record: IdempotencyRecord = { fingerprint: claim.fingerprint, status, headers, body };
      try {
        await o.store.complete(claim.key, record, o.ttlMs);
        claim.state = 'done';
      } catch (error) {
        o.log(request).warn({ err: error }, 'idempotency: the response could not be stored; the key is free again');
      }
      return payload;
    });

    // A 5xx, an abort or a store failure above: let a retry run.
    app.addHook('onResponse', async (request) => {
      const claim = request.infraIdempotency;
      if (claim?.state !== 'pending') return;
      claim.state = 'done';
      try {
        await o.store.release(claim.key);
      } catch (error) {
        o.log(request).warn({ err: error }, 'idempotency: the key could not be released; it frees itself at lockTtlMs');
      }
    });
    done();
  },
  { name: '@infra/api/idempotency', fastify: '5.x' },
);

interface Resolved {
  store: IdempotencyStore;
  ttlMs: number;
  lockTtlMs: number;
  header: string;
  methods: Set<string>;
  required: boolean;
  scope: (request: FastifyRequest) => string;
  log: (request: FastifyRequest) => Logger;
}

function resolve(options: IdempotencyPluginOptions): Resolved {
  const o = check.plainObject('options', options) as Partial<IdempotencyPluginOptions>;
  const store: unknown = o.store;
  if (
    typeof store !== 'object' ||
    store === null ||
    !['begin', 'complete', 'release'].every((name) => typeof (store as Record<string, unknown>)[name] === 'function')
  ) {
    throw new InvalidOptionError('store', store, 'an IdempotencyStore (begin, complete, release)');
  }
  const methods = o.methods ?? ['POST', 'PATCH'];
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string' && m !== '')) {
    throw new InvalidOptionError('methods', methods, 'a non-empty array of HTTP methods');
  }
  const header = check.nonEmptyString('header', o.header ?? 'idempotency-key').toLowerCase();
  return {
    store: store as IdempotencyStore,
    ttlMs: check.positive('ttlMs', o.ttlMs ?? 86_400_000),
    lockTtlMs: check.positive('lockTtlMs', o.lockTtlMs ?? 60_000),
    header,
    methods: new Set(methods.map((method) => method.toUpperCase())),
    required: check.boolean('required', o.required ?? false),
    scope: check.optionalFn<Resolved['scope']>('scope', o.scope) ?? (() => ''),
    log: logTarget(o.logger),
  };
}

function problem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
): FastifyReply {
  const body: ProblemDetails = {
    type: 'about:blank',
    title: status === 422 ? 'Unprocessable Content' : status === 409 ? 'Conflict' : 'Bad Request',
    status,
    detail,
    instance: request.url.split('?', 1)[0],
    code,
    requestId: request.id,
  };
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
