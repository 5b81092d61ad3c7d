import { tracerFor, withSpan } from '@infra/core';
import { startTestTracing, type TestTracing } from '@infra/test-utils/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from './demo-instance.js';

describe("the demo's pino logger", () => {
  let tracing: TestTracing;
  let run: RunningDemo;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    tracing = startTestTracing();
    run = await startDemo(
      { LOG_LEVEL: 'info', SEED_DATA: 'false' },
      { logStream: { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) } },
    );
  });

  afterAll(async () => {
    await run.demo.close();
    await tracing.stop();
  });

  it('writes the trace and span ids on the lines of a request served inside a span, and none outside', async () => {
    const ids = await withSpan(tracerFor('demo-test'), 'client call', {}, async (span) => {
      // inject runs the request in the caller's async context, so its lines are inside this span.
      expect((await run.demo.app.inject('/health/live')).statusCode).toBe(200);
      return span?.spanContext();
    });
    expect(ids?.traceId).toMatch(/^[0-9a-f]{32}$/);
    const inside = lines.filter((line) => line.msg === 'incoming request' && line.trace_id !== undefined);
    expect(inside).toEqual([expect.objectContaining({ trace_id: ids?.traceId, span_id: ids?.spanId })]);

    const before = lines.length;
    expect((await run.demo.app.inject('/health/live')).statusCode).toBe(200);
    const outside = lines.slice(before).filter((line) => line.msg === 'incoming request');
    expect(outside).toHaveLength(1);
    expect(outside[0]).not.toHaveProperty('trace_id');
    expect(outside[0]).not.toHaveProperty('span_id');
  });
});
