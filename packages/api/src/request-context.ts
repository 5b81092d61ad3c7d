import { randomUUID } from 'node:crypto';
import { ContextSlot, activeTraceIds } from '@infra/core';

/** What code running for a request can ask about it, wherever it is called from. */
export interface RequestContext {
  /** The request's id: its `x-request-id` when it sent a usable one, else a new UUID. Echoed in the response. */
  readonly requestId: string;
  /** Trace id of the active span (the request's server span, or the caller's when it sent `traceparent`). */
  readonly traceId: string | undefined;
  /** Span id of the active span. */
  readonly spanId: string | undefined;
}

const requestIds = new ContextSlot<string>('@infra/api request');

const context: RequestContext = {
  get requestId(): string {
    return requestIds.get() as string;
  },
  get traceId(): string | undefined {
    return activeTraceIds()?.trace_id;
  },
  get spanId(): string | undefined {
    return activeTraceIds()?.span_id;
  },
};

/**
 * The context of the request being served, `undefined` outside one. The trace ids are read from
 * OpenTelemetry's active context (so they name the span active where this is called); they are
 * `undefined` without an SDK.
 */
export function currentRequestContext(): RequestContext | undefined {
  return requestIds.get() === undefined ? undefined : context;
}

/** Runs `fn` as part of the request `requestId` (the Fastify plugin's hook). */
export function runInRequest<T>(requestId: string, fn: () => T): T {
  return requestIds.run(requestId, fn);
}

// Visible ASCII, at most 200 characters: an id copied into logs, headers and messages must not
// carry control characters or grow without bound.
const usable = /^[\x21-\x7e]{1,200}$/;

/**
 * The request id to use for a request whose `x-request-id` (or other id header) is `value`: the
 * value when it is usable (1-200 visible ASCII characters), else a new random UUID.
 */
export function requestIdFrom(value: string | readonly string[] | undefined): string {
  const given = typeof value === 'string' ? value : value?.[0];
  return given !== undefined && usable.test(given) ? given : randomUUID();
}
