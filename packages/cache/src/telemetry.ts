import { type TelemetryTracer, tracerFor } from '@infra/core';

/** The tracer of the cache's spans: `cache get`, `cache set` and `cache getOrSet`. */
export const tracer: TelemetryTracer = tracerFor('@infra/cache');
