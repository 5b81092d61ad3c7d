import { activeTraceIds } from './telemetry/spans.js';

/** What {@link traceMixin} adds to a line: the W3C ids of the active span, hex. */
export interface TraceFields {
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
}

/**
 * A pino `mixin` that adds `trace_id`, `span_id` and `trace_flags` of the active OpenTelemetry span
 * to every line written inside one, and nothing outside a span or without an SDK:
 * `pino({ mixin: traceMixin() })`, or Fastify's `logger: { mixin: traceMixin() }`. The field names
 * are those of OpenTelemetry's log data model, which log backends join to traces.
 */
export function traceMixin(): () => TraceFields {
  // A new object each time: pino's default merge strategy assigns the line's fields into it.
  return () => activeTraceIds() ?? {};
}
