import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { check } from '../errors.js';
import { currentRequestContext, requestIdFrom, runInRequest, type RequestContext } from '../request-context.js';
import { resolvePluginOptions } from './resolve-plugin-options.js';

export interface RequestContextOptions {
  /**
   * Header that carries the request id in both directions; give the same name to
   * {@link requestIdServerOptions}.
   * @default 'x-request-id'
   */
  header?: string;
  /**
   * Runs the rest of the request inside another ambient context of yours, e.g. a message context
   * whose correlation id is the request id: `(context, next) => runWithMessageContext({ correlationId:
   * context.requestId }, next)`. Call `next` exactly once, synchronously.
   * @default none
   */
  enter?: (context: RequestContext, next: () => void) => void;
}

/** Fastify factory options that take the request id from `header` (when usable) or make a new UUID. */
export interface RequestIdServerOptions {
  requestIdHeader: false;
  genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => string;
}

/**
 * Options to spread into `Fastify({ ...requestIdServerOptions() })`: `request.id` is the request's
 * `x-request-id` when it is 1-200 visible ASCII characters, else a new random UUID (Fastify's own
 * default is a per-process counter, and its `requestIdHeader` takes any value as it is).
 */
export function requestIdServerOptions(header = 'x-request-id'): RequestIdServerOptions {
  const name = check.nonEmptyString('header', header).toLowerCase();
  return { requestIdHeader: false, genReqId: (request) => requestIdFrom(request.headers[name]) };
}

/**
 * Makes each request's context ({@link currentRequestContext}) available to everything the request
 * runs, echoes the request id in the response header, and optionally enters an ambient context of
 * yours around the request. The trace ids come from OpenTelemetry's active context: with the SDK's
 * HTTP instrumentation, the server span continues the caller's `traceparent`.
 */
export const requestContextPlugin: FastifyPluginCallback<RequestContextOptions> = fp<RequestContextOptions>(
  (app, options, done) => {
    const o = resolvePluginOptions(resolve, options, done);
    if (o === undefined) return;
    const { header, enter } = o;
    app.addHook('onRequest', (request, reply, next) => {
      void reply.header(header, request.id);
      // The rest of the request (hooks, body parsing, handler) runs inside.
      runInRequest(request.id, () => {
        if (enter === undefined) next();
        // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- always set inside runInRequest
        else enter(currentRequestContext()!, next);
      });
    });
    done();
  },
  { name: '@infra/api/request-context', fastify: '5.x' },
);

interface Resolved {
  header: string;
  enter: RequestContextOptions['enter'];
}

function resolve(options: RequestContextOptions): Resolved {
  const o = check.plainObject('options', options) as Partial<RequestContextOptions>;
  const enter = check.optionalFn<RequestContextOptions['enter']>('enter', o.enter);
  return { header: check.nonEmptyString('header', o.header ?? 'x-request-id').toLowerCase(), enter };
}
