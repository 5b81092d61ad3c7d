import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { isNotFound } from '../peers.js';
import { otelApiHidden } from './hide-otel-api.js';

/** The @opentelemetry/api module. */
export type OtelApi = typeof Api;

const apiPackage = '@opentelemetry/api';
const require = createRequire(import.meta.url);

// `undefined`: not looked for yet; `null`: not installed.
let api: OtelApi | null | undefined;
let noopProvider: unknown;

// Synchronous, so that a span can start on the first call: a dynamic import would leave the calls
// made before it settles untraced. The API keeps its registrations (provider, context manager,
// propagator) on a global, so this copy sees the SDK whichever way the application loaded it.
function load(): OtelApi | null {
  try {
    return require(apiPackage) as OtelApi;
  } catch (error) {
    if (isNotFound(error, apiPackage)) return null;
    throw error;
  }
}

/** The @opentelemetry/api module when it is installed, else `undefined`. Looked for once. */
export function otelApi(): OtelApi | undefined {
  if (otelApiHidden()) return undefined;
  if (api === undefined) api = load();
  return api ?? undefined;
}

/**
 * The API when an SDK is registered, else `undefined`: the one check instrumented code pays when
 * tracing is off. Without an SDK the global tracer provider is the API's proxy, delegating to its
 * no-op provider; asking that proxy for its delegate is a property read.
 */
export function tracingApi(): OtelApi | undefined {
  const loaded = otelApi();
  if (loaded === undefined) return undefined;
  const provider = loaded.trace.getTracerProvider();
  noopProvider ??= new loaded.ProxyTracerProvider().getDelegate();
  // A provider from another copy of the API is not an instance of this copy's class: it counts as
  // registered, and the spans take the full path.
  if (provider instanceof loaded.ProxyTracerProvider && provider.getDelegate() === noopProvider) return undefined;
  return loaded;
}
