import { ContextSlot, activeTraceIds, extractContext, withContext } from '@infra/core';
import { InvalidOptionError } from './errors.js';

/** What travels with a message from publish to handler, and from a handler to what it publishes. */
export interface MessageContext {
  /** Ties together every message caused by one request or job. */
  readonly correlationId: string;
  /**
   * W3C trace context of the current span (`00-<trace-id>-<span-id>-<flags>`): OpenTelemetry's
   * active span when an SDK is registered, else the context received with the message being handled.
   */
  readonly traceparent?: string | undefined;
  /** W3C `tracestate`, passed through unchanged. */
  readonly tracestate?: string | undefined;
  /** Id of the message being handled, when inside a handler. */
  readonly messageId?: string | undefined;
}

const contexts = new ContextSlot<MessageContext>('@infra/messaging message');

/** The context of the current async call chain (inside a handler, or set by {@link runWithMessageContext}). */
export function currentMessageContext(): MessageContext | undefined {
  const stored = contexts.get();
  if (stored === undefined) return undefined;
  const ids = activeTraceIds();
  if (ids === undefined) return stored;
  const traceparent = `00-${ids.trace_id}-${ids.span_id}-${ids.trace_flags}`;
  return traceparent === stored.traceparent ? stored : { ...stored, traceparent };
}

/** The stored context as set, without asking OpenTelemetry (what a message built here passes on). */
export function messageContextStore(): MessageContext | undefined {
  return contexts.get();
}

/**
 * Runs `fn` with `context` as the ambient message context: messages published inside carry its
 * correlation id and continue its trace (with an OpenTelemetry SDK, `context.traceparent` also
 * becomes the parent of the spans started inside). Use it in request middleware.
 */
export function runWithMessageContext<T>(context: MessageContext, fn: () => T): T {
  if (typeof context !== 'object' || typeof context.correlationId !== 'string' || context.correlationId.length === 0) {
    throw new InvalidOptionError(
      'context.correlationId',
      (context as Partial<MessageContext> | null)?.correlationId,
      'a non-empty string',
      'INVALID_ARGUMENT',
    );
  }
  if (context.traceparent !== undefined && !parseTraceparent(context.traceparent)) {
    throw new InvalidOptionError(
      'context.traceparent',
      context.traceparent,
      'a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)',
      'INVALID_ARGUMENT',
    );
  }
  if (context.traceparent === undefined) return contexts.run(context, fn);
  // With an SDK, the spans started inside continue the given trace.
  const carrier: Record<string, string> = { traceparent: context.traceparent };
  if (context.tracestate !== undefined) carrier.tracestate = context.tracestate;
  return withContext(extractContext(carrier), () => contexts.run(context, fn));
}

const traceparentPattern = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

export interface Traceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
}

/** Parses a W3C `traceparent`; `undefined` when it is malformed or uses the all-zero ids. */
export function parseTraceparent(value: string): Traceparent | undefined {
  const match = traceparentPattern.exec(value.trim());
  if (!match) return undefined;
  const [, version = '', traceId = '', parentId = '', flags = ''] = match;
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return { version, traceId, parentId, flags };
}

/** Calls `handler(payload, message)` with `context` as the ambient message context; the bus uses it around handlers. */
export function runHandler<P, M>(
  context: MessageContext,
  handler: (payload: P, message: M) => unknown,
  payload: P,
  message: M,
): unknown {
  return contexts.run(context, handler, payload, message);
}
