import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import { InvalidOptionError } from './errors.js';

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
    throw new InvalidOptionError('context.correlationId', (context as Partial<MessageContext> | null)?.correlationId, 'a non-empty string', 'INVALID_ARGUMENT');
  }
  if (context.traceparent !== undefined && !parseTraceparent(context.traceparent)) {
    throw new InvalidOptionError('context.traceparent', context.traceparent, 'a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)', 'INVALID_ARGUMENT');
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
  const spanId = randomHex(8);
  return parsed ? `00-${parsed.traceId}-${spanId}-${parsed.flags}` : `00-${randomHex(16)}-${spanId}-01`;
}

// One getrandom() call per 4 KiB of ids instead of one per id: ids are made for every message.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/** Run `fn` inside the storage; the bus uses it around handlers. */
export function runInContext<T>(context: MessageContext, fn: () => T): T {
  return storage.run(context, fn);
}
