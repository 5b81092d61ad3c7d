// The shapes instrumented code sees. They are structural subsets of @opentelemetry/api's own
// types, declared here so that @infra/core's declarations never name an optional package.

/** A span attribute value, as OpenTelemetry accepts it. */
export type TelemetryAttributeValue =
  string | number | boolean | readonly string[] | readonly number[] | readonly boolean[];

/** Span or event attributes; an `undefined` value is left out. */
export type TelemetryAttributes = Readonly<Record<string, TelemetryAttributeValue | undefined>>;

/** OpenTelemetry's span kinds, by name. */
export type TelemetrySpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** An OpenTelemetry context (`Context` of @opentelemetry/api): where the active span lives. */
export interface TelemetryContext {
  getValue(key: symbol): unknown;
}

/** What instrumented code does with a recording span: a subset of OpenTelemetry's `Span`. */
export interface TelemetrySpan {
  setAttribute(key: string, value: TelemetryAttributeValue | undefined): unknown;
  setAttributes(attributes: TelemetryAttributes): unknown;
  addEvent(name: string, attributes?: TelemetryAttributes): unknown;
  updateName(name: string): unknown;
  isRecording(): boolean;
  spanContext(): { readonly traceId: string; readonly spanId: string; readonly traceFlags: number };
}

/** How a span starts. */
export interface TelemetrySpanOptions {
  /**
   * The span kind: `client` for a call to a server (a query), `producer`/`consumer` for messages.
   * @default 'internal'
   */
  readonly kind?: TelemetrySpanKind;
  /** Attributes known when the span starts (samplers see these). */
  readonly attributes?: TelemetryAttributes;
  /**
   * The context whose span is the parent, e.g. one {@link extractContext} read from a message.
   * @default the active context
   */
  readonly parent?: TelemetryContext;
  /**
   * Start a new trace, ignoring the active span.
   * @default false
   */
  readonly root?: boolean;
  /** Contexts whose spans this one links to (the producers of a batch of messages). */
  readonly links?: readonly TelemetryContext[];
}

/** The trace and span ids of the active span, as log fields. */
export interface TraceIds {
  /** 32 lowercase hex digits. */
  readonly trace_id: string;
  /** 16 lowercase hex digits. */
  readonly span_id: string;
  /** Two hex digits: `01` when the trace is sampled. */
  readonly trace_flags: string;
}
