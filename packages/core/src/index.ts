export {
  InfraError,
  describeValue,
  errorFamily,
  errorFamilyOf,
  errorMessage,
  invalidOptionClass,
  invalidOptionMessage,
  isRetryable,
} from './errors.js';
export type {
  ErrorFamily,
  ErrorGuard,
  ErrorsByCode,
  InfraErrorOptions,
  InvalidOptionClass,
  InvalidOptionCode,
  InvalidOptionErrorOf,
} from './errors.js';
export { optionChecks } from './options.js';
export type { InvalidOptionConstructor, InvalidOptionFactory, OptionChecks } from './options.js';
export { EventHub } from './events.js';
export type { Listener } from './events.js';
export { isLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { traceMixin } from './trace-mixin.js';
export type { TraceFields } from './trace-mixin.js';
export { sleep } from './sleep.js';
export { ContextSlot } from './context-slot.js';
export { loadOptionalPeer } from './peers.js';
export { DATE_TAG, UnrepresentableValueError, parseStrict, stringifyStrict } from './json.js';
export type { JsonDates, StrictJsonOptions } from './json.js';
export {
  activeSpan,
  activeTraceIds,
  addSpanEvent,
  errorTypeOf,
  startSpan,
  tracerFor,
  tracingEnabled,
  withSpan,
} from './telemetry/spans.js';
export type { OpenSpan, TelemetryTracer } from './telemetry/spans.js';
export { activeContext, extractContext, injectContext, withContext } from './telemetry/propagation.js';
export type { TelemetryCarrier } from './telemetry/propagation.js';
export type {
  TelemetryAttributeValue,
  TelemetryAttributes,
  TelemetryContext,
  TelemetrySpan,
  TelemetrySpanKind,
  TelemetrySpanOptions,
  TraceIds,
} from './telemetry/types.js';
