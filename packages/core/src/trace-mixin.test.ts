import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { startTestTracing, type TestTracing } from '@infra/test-utils/tracing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceMixin } from './index.js';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      done();
    },
  });
  return {
    logger: pino({ mixin: traceMixin() }, stream),
    lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('traceMixin with no SDK registered', () => {
  it('adds nothing, even inside a span of the no-op tracer', () => {
    const { logger, lines } = capture();
    trace.getTracer('test').startActiveSpan('noop', (span) => {
      logger.info('inside');
      span.end();
    });
    expect(lines()[0]).not.toHaveProperty('trace_id');
    expect(lines()[0]).not.toHaveProperty('span_id');
  });
});

describe('traceMixin with a real SDK', () => {
  let tracing: TestTracing;
  beforeAll(() => {
    tracing = startTestTracing();
  });
  afterAll(async () => {
    await tracing.stop();
  });

  it('puts the active span ids on a line written inside it, and none on a line outside', async () => {
    const { logger, lines } = capture();
    logger.info('before');
    await trace.getTracer('test').startActiveSpan('work', async (span) => {
      await Promise.resolve();
      logger.info({ step: 1 }, 'inside');
      span.end();
    });
    logger.info({ step: 2 }, 'after');
    const [ended] = tracing.spansNamed('work');
    const [before, inside, after] = lines();
    expect(after).toMatchObject({ msg: 'after', step: 2 });
    expect(inside).toMatchObject({
      msg: 'inside',
      step: 1,
      trace_id: ended?.spanContext().traceId,
      span_id: ended?.spanContext().spanId,
      trace_flags: '01',
    });
    for (const outside of [before, after]) {
      expect(outside).not.toHaveProperty('trace_id');
      expect(outside).not.toHaveProperty('span_id');
    }
  });
});
