import type { Attributes, Context, Link, Span, SpanOptions, Tracer } from '@opentelemetry/api';
import { InfraError, errorMessage, invalidOptionMessage } from '../errors.js';
import { type OtelApi, tracingApi } from './otel-api.js';
import type { TelemetryAttributes, TelemetrySpan, TelemetrySpanKind, TelemetrySpanOptions, TraceIds } from './types.js';

/** A package's tracer: its instrumentation scope (name and version) for OpenTelemetry. */
export interface TelemetryTracer {
  readonly name: string;
  readonly version: string | undefined;
}

/** A span started by {@link startSpan}, ended by its owner: for work that outlives one call. */
export interface OpenSpan {
  /** The span while it records, else `undefined` (no SDK registered, or not sampled). */
  readonly span: TelemetrySpan | undefined;
  /** Runs `fn` with this span active, so that the spans and events it makes are children. */
  run<T>(fn: () => T): T;
  /** Ends the span; with an `error`, records it and sets the error status. Later calls do nothing. */
  end(error?: unknown): void;
}

const kindKeys = {
  internal: 'INTERNAL',
  server: 'SERVER',
  client: 'CLIENT',
  producer: 'PRODUCER',
  consumer: 'CONSUMER',
} as const satisfies Record<TelemetrySpanKind, string>;

/**
 * The tracer of package `name` (its instrumentation scope). Cheap and inert: the OpenTelemetry
 * tracer is looked up when a span starts, so a provider registered later is used.
 */
export function tracerFor(name: string, version?: string): TelemetryTracer {
  if (typeof name !== 'string' || name === '')
    throw new InfraError('INVALID_ARGUMENT', invalidOptionMessage('name', name, 'a non-empty string', 'argument'));
  return { name, version };
}

function spanOptions(api: OtelApi, options: TelemetrySpanOptions): SpanOptions {
  const links: Link[] = [];
  for (const linked of options.links ?? []) {
    const spanContext = api.trace.getSpanContext(linked as Context);
    if (spanContext !== undefined && api.isSpanContextValid(spanContext)) links.push({ context: spanContext });
  }
  return {
    kind: api.SpanKind[kindKeys[options.kind ?? 'internal']],
    ...(options.attributes === undefined ? {} : { attributes: options.attributes as Attributes }),
    ...(options.root === true ? { root: true } : {}),
    ...(links.length === 0 ? {} : { links }),
  };
}

function begin(api: OtelApi, tracer: TelemetryTracer, name: string, options: TelemetrySpanOptions): [Span, Context] {
  const parent = (options.parent as Context | undefined) ?? api.context.active();
  const otelTracer: Tracer = api.trace.getTracer(tracer.name, tracer.version);
  const span = otelTracer.startSpan(name, spanOptions(api, options), parent);
  return [span, api.trace.setSpan(parent, span)];
}

/** The `error.type` of a failure: its string `code` (`CIRCUIT_OPEN`), else its class name, else its type. */
export function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : typeof error;
}

/** Records `error` on `span`: the exception event, the error status, and `error.type`. */
function fail(api: OtelApi, span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : errorMessage(error));
  span.setAttribute('error.type', errorTypeOf(error));
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorMessage(error) });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * True when an SDK is registered, so that a span would start: lets a caller skip work that only
 * feeds a span (parsing a query for its operation name) when nothing records it.
 */
export function tracingEnabled(): boolean {
  return tracingApi() !== undefined;
}

/**
 * Runs `fn` inside a new span and ends the span when `fn` returns or, for a promise, settles; a
 * throw or rejection is recorded on the span (exception event, error status, `error.type`) and
 * passed on. `fn` receives the span while it records, `undefined` otherwise: with no SDK
 * registered (or without @opentelemetry/api) nothing starts, and the cost is one check.
 */
export function withSpan<T>(
  tracer: TelemetryTracer,
  name: string,
  options: TelemetrySpanOptions,
  fn: (span: TelemetrySpan | undefined) => T,
): T {
  const api = tracingApi();
  if (api === undefined) return fn(undefined);
  const [span, context] = begin(api, tracer, name, options);
  return api.context.with(context, () => {
    let result: T;
    try {
      result = fn(span.isRecording() ? (span as unknown as TelemetrySpan) : undefined);
    } catch (error) {
      fail(api, span, error);
      span.end();
      throw error;
    }
    if (!isPromiseLike(result)) {
      span.end();
      return result;
    }
    return result.then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        fail(api, span, error);
        span.end();
        throw error;
      },
    ) as T;
  });
}

const noSpan: OpenSpan = { span: undefined, run: (fn) => fn(), end: () => undefined };

/**
 * Starts a span that the caller ends, for work that outlives one call (a stream, a consumer's
 * message). Without an SDK it returns an inert handle whose `run` just calls `fn`.
 */
export function startSpan(tracer: TelemetryTracer, name: string, options: TelemetrySpanOptions = {}): OpenSpan {
  const api = tracingApi();
  if (api === undefined) return noSpan;
  const [span, context] = begin(api, tracer, name, options);
  let ended = false;
  return {
    span: span.isRecording() ? (span as unknown as TelemetrySpan) : undefined,
    run: (fn) => api.context.with(context, fn),
    end: (...error: unknown[]) => {
      if (ended) return;
      ended = true;
      if (error.length > 0) fail(api, span, error[0]);
      span.end();
    },
  };
}

function defined(attributes: TelemetryAttributes): Record<string, NonNullable<TelemetryAttributes[string]>> {
  const result: Record<string, NonNullable<TelemetryAttributes[string]>> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) result[key] = value;
  return result;
}

/** Adds an event to the active span, when one is recording (a retry, a breaker opening). */
export function addSpanEvent(name: string, attributes: TelemetryAttributes = {}): void {
  const span = tracingApi()?.trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.addEvent(name, defined(attributes) as Attributes);
}

/** The recording span of the active context, when there is one: to add attributes to it. */
export function activeSpan(): TelemetrySpan | undefined {
  const span = tracingApi()?.trace.getActiveSpan();
  return span?.isRecording() === true ? (span as unknown as TelemetrySpan) : undefined;
}

/** The ids of the active span (recording or propagated from a caller), for log lines; `undefined` outside one. */
export function activeTraceIds(): TraceIds | undefined {
  const api = tracingApi();
  const spanContext = api?.trace.getActiveSpan()?.spanContext();
  if (api === undefined || spanContext === undefined || !api.isSpanContextValid(spanContext)) return undefined;
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: spanContext.traceFlags.toString(16).padStart(2, '0'),
  };
}
