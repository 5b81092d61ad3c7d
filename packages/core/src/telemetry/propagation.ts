import type { Context, TextMapGetter } from '@opentelemetry/api';
import { InfraError, invalidOptionMessage } from '../errors.js';
import { otelApi } from './otel-api.js';
import type { TelemetryContext } from './types.js';

/** Where a context travels: message headers, an outbox row's column, HTTP headers. */
export type TelemetryCarrier = Readonly<Record<string, string | readonly string[] | Uint8Array | undefined>>;

const decoder = new TextDecoder();

// Header values arrive as strings (HTTP, Redis Streams), arrays (repeated HTTP headers) or bytes
// (Kafka); the W3C propagator reads strings.
const getter: TextMapGetter<TelemetryCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value instanceof Uint8Array) return decoder.decode(value);
    return typeof value === 'string' ? value : value?.[0];
  },
};

function checkCarrier(carrier: unknown): void {
  if (typeof carrier !== 'object' || carrier === null || Array.isArray(carrier))
    throw new InfraError('INVALID_ARGUMENT', invalidOptionMessage('carrier', carrier, 'an object', 'argument'));
}

/**
 * Writes `context` (by default the active one) into `carrier` with the globally registered
 * propagator (W3C `traceparent` and `tracestate` with the SDK's defaults) and returns `carrier`.
 * Writes nothing without @opentelemetry/api or a registered propagator.
 */
export function injectContext<C extends Record<string, string>>(carrier: C, context?: TelemetryContext): C {
  checkCarrier(carrier);
  const api = otelApi();
  if (api !== undefined) api.propagation.inject((context as Context | undefined) ?? api.context.active(), carrier);
  return carrier;
}

/**
 * Reads the context `carrier` holds, on top of `base` (by default the active context); `undefined`
 * without @opentelemetry/api. Pass the result as a span's `parent` or `links`, or to {@link withContext}.
 */
export function extractContext(carrier: TelemetryCarrier, base?: TelemetryContext): TelemetryContext | undefined {
  checkCarrier(carrier);
  const api = otelApi();
  if (api === undefined) return undefined;
  return api.propagation.extract((base as Context | undefined) ?? api.context.active(), carrier, getter);
}

/** The active context; `undefined` without @opentelemetry/api. */
export function activeContext(): TelemetryContext | undefined {
  return otelApi()?.context.active();
}

/** Runs `fn` with `context` active (as is when `context` is `undefined`). */
export function withContext<T>(context: TelemetryContext | undefined, fn: () => T): T {
  const api = otelApi();
  if (api === undefined || context === undefined) return fn();
  return api.context.with(context as Context, fn);
}
