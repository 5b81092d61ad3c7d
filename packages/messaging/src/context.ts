import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidOptionError } from './errors.js';
import { randomSpanId, rootTraceparent } from './random-ids.js';

/** What travels with a message from publish to handler, and from a handler to what it publishes. */
export interface MessageContext {
  /** Ties together every message caused by one request or job. */
  readonly correlationId: string;
  /** W3C trace context of the current span (`00-<trace-id>-<span-id>-<flags>`). */
  readonly traceparent?: string | undefined;
  /** W3C `tracestate`, passed through unchanged. */
  readonly tracestate?: string | undefined;
  /** Id of the message being handled, when inside a handler. */
  readonly messageId?: string | undefined;
}

const storage = new AsyncLocalStorage<MessageContext>();

/** The context of the current async call chain (inside a handler, or set by {@link runWithMessageContext}). */
export function currentMessageContext(): MessageContext | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` with `context` as the ambient message context: messages published inside carry its
 * correlation id and continue its trace. Use it in request middleware.
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
  return storage.run(context, fn);
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

/**
 * A `traceparent` for a new span: a child of `parent` (same trace id and flags) when it is valid,
 * otherwise the root of a new, sampled trace.
 */
export function childTraceparent(parent?: string): string {
  const parsed = parent === undefined ? undefined : parseTraceparent(parent);
  return parsed ? `00-${parsed.traceId}-${randomSpanId()}-${parsed.flags}` : rootTraceparent();
}

/** Calls `handler(payload, message)` with `context` as the ambient message context; the bus uses it around handlers. */
export function runHandler<P, M>(
  context: MessageContext,
  handler: (payload: P, message: M) => unknown,
  payload: P,
  message: M,
): unknown {
  return storage.run(context, handler, payload, message);
}
