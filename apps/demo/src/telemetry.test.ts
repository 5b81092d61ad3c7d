import { describe, expect, it } from 'vitest';
import { isDemoError } from './errors.js';
import { loadTracingConfig, startTelemetry } from './telemetry.js';

describe('tracing configuration', () => {
  it('reads the standard OpenTelemetry variables, tracing off by default', () => {
    expect(loadTracingConfig({})).toEqual({
      exporter: 'none',
      protocol: 'http/protobuf',
      serviceName: 'challenges-service',
    });
    expect(
      loadTracingConfig({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'challenges-eu',
      }),
    ).toEqual({ exporter: 'otlp', protocol: 'http/json', serviceName: 'challenges-eu' });
  });

  it('refuses values it does not support, naming the variable', () => {
    for (const [variable, value] of [
      ['OTEL_TRACES_EXPORTER', 'zipkin'],
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
      ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/xml'],
    ] as const) {
      let error: unknown;
      try {
        loadTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', [variable]: value });
      } catch (caught) {
        error = caught;
      }
      expect(isDemoError(error, 'INVALID_CONFIG')).toBe(true);
      expect((error as { variable: string }).variable).toBe(variable);
      expect((error as Error).message).toContain(value);
    }
  });

  it('loads no SDK when tracing is off', async () => {
    expect(await startTelemetry({ OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(await startTelemetry({})).toBeUndefined();
  });
});
