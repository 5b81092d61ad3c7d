import { type TelemetryTracer, tracerFor } from '@infra/core';

/** The tracer of the health spans: `health report` per run, `health check <name>` per check run. */
export const tracer: TelemetryTracer = tracerFor('@infra/health');
