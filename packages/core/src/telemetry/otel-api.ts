import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { isNotFound } from '../peers.js';
import { otelApiHidden } from './hide-otel-api.js';

/** The @opentelemetry/api module. */
export type OtelApi = typeof Api;

const apiPackage = '@opentelemetry/api';
const require = createRequire(import.meta.url);

interface Loaded {
  readonly api: OtelApi;
  // Read once: the CommonJS build of the API exposes its exports through getters.
  readonly trace: OtelApi['trace'];
  readonly Proxy: OtelApi['ProxyTracerProvider'];
  /** What the API's proxy provider delegates to while no SDK is registered. */
  readonly noop: unknown;
}

// `undefined`: not looked for yet; `null`: not installed.
let loaded: Loaded | null | undefined;

// Synchronous, so that a span can start on the first call: a dynamic import would leave the calls
// made before it settles untraced. The API keeps its registrations (provider, context manager,
// propagator) on a global, so this copy sees the SDK whichever way the application loaded it.
function load(): Loaded | null {
  let api: OtelApi;
  try {
    api = require(apiPackage) as OtelApi;
  } catch (error) {
    if (isNotFound(error, apiPackage)) return null;
    throw error;
  }
  const Proxy = api.ProxyTracerProvider;
  return { api, trace: api.trace, Proxy, noop: new Proxy().getDelegate() };
}

function resolved(): Loaded | undefined {
  if (otelApiHidden()) return undefined;
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

/** The @opentelemetry/api module when it is installed, else `undefined`. Looked for once. */
export function otelApi(): OtelApi | undefined {
  return resolved()?.api;
}

/**
 * The API when an SDK is registered, else `undefined`: the one check instrumented code pays when
 * tracing is off. Without an SDK the global tracer provider is the API's proxy, delegating to its
 * no-op provider.
 */
export function tracingApi(): OtelApi | undefined {
  const current = resolved();
  if (current === undefined) return undefined;
  const provider = current.trace.getTracerProvider();
  // A provider from another copy of the API is not an instance of this copy's class: it counts as
  // registered, and the spans take the full path.
  if (provider instanceof current.Proxy && provider.getDelegate() === current.noop) return undefined;
  return current.api;
}
