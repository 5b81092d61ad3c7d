import { useTestTracing, parentOf, startTestTracing } from '@infra/test-utils/tracing';
import { describe, expect, it } from 'vitest';
import {
  activeContext,
  activeSpan,
  activeTraceIds,
  addSpanEvent,
  errorTypeOf,
  extractContext,
  injectContext,
  startSpan,
  tracerFor,
  tracingEnabled,
  withContext,
  withSpan,
} from '../index.js';
import { hideOtelApi } from '../testing.js';

const tracer = tracerFor('@infra/core-test', '1.2.3');
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('without an SDK', () => {
  it('runs the work with no span, records nothing and propagates nothing', async () => {
    const seen: unknown[] = [];
    const result = await withSpan(tracer, 'op', { kind: 'client' }, async (span) => {
      seen.push(span, activeSpan(), activeTraceIds());
      addSpanEvent('nothing');
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual([undefined, undefined, undefined]);
    expect(tracingEnabled()).toBe(false);
    const open = startSpan(tracer, 'stream');
    expect(open.span).toBeUndefined();
    expect(open.run(() => 'ran')).toBe('ran');
    open.end(new Error('ignored'));
    expect(injectContext({})).toEqual({});
  });

  it('passes errors through unchanged', () => {
    const error = new Error('boom');
    expect(() =>
      withSpan(tracer, 'op', {}, () => {
        throw error;
      }),
    ).toThrow(error);
  });

  it('works the same when @opentelemetry/api is not installed', async () => {
    hideOtelApi(true);
    try {
      expect(await withSpan(tracer, 'op', {}, (span) => Promise.resolve(span))).toBeUndefined();
      expect(extractContext({ traceparent })).toBeUndefined();
      expect(activeContext()).toBeUndefined();
      expect(withContext(undefined, () => 'ran')).toBe('ran');
      expect(activeTraceIds()).toBeUndefined();
    } finally {
      hideOtelApi(false);
    }
  });
});

describe('errorTypeOf', () => {
  it('names a failure by its code, else its class, else its type', () => {
    expect(errorTypeOf(Object.assign(new Error('x'), { code: 'TIMEOUT' }))).toBe('TIMEOUT');
    expect(errorTypeOf(new RangeError('x'))).toBe('RangeError');
    expect(errorTypeOf('text')).toBe('string');
    expect(errorTypeOf(null)).toBe('object');
  });
});

describe('tracerFor', () => {
  it('rejects a name that is not a non-empty string', () => {
    expect(() => tracerFor('')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('""') as unknown }),
    );
    expect(() => tracerFor(7 as unknown as string)).toThrow(/got 7/);
  });

  it('rejects a flag that is not a boolean', () => {
    expect(() => {
      hideOtelApi('yes' as never);
    }).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"yes"') as unknown }),
    );
  });

  it('rejects a carrier that is not an object', () => {
    expect(() => injectContext(null as unknown as Record<string, string>)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => extractContext('traceparent' as never)).toThrow(/"carrier"/);
  });
});

describe('with an SDK', () => {
  const tracing = useTestTracing();

  it('records a span with its scope, kind and attributes, and nests the spans started inside it', async () => {
    expect(tracingEnabled()).toBe(true);
    const ids = await withSpan(
      tracer,
      'outer',
      { kind: 'server', attributes: { 'a.b': 'x', skipped: undefined } },
      async (span) => {
        span?.setAttribute('late', 3);
        await withSpan(tracer, 'inner', { kind: 'client' }, () => Promise.resolve());
        return activeTraceIds();
      },
    );
    const [inner, outer] = tracing.spans();
    expect(inner?.name).toBe('inner');
    expect(inner?.kind).toBe(2);
    expect(outer?.name).toBe('outer');
    expect(outer?.kind).toBe(1);
    expect(outer?.attributes).toEqual({ 'a.b': 'x', late: 3 });
    expect(outer?.instrumentationScope).toMatchObject({ name: '@infra/core-test', version: '1.2.3' });
    expect(parentOf(inner!, tracing.spans())).toBe(outer);
    expect(ids).toEqual({
      trace_id: outer?.spanContext().traceId,
      span_id: outer?.spanContext().spanId,
      trace_flags: '01',
    });
    expect(activeTraceIds()).toBeUndefined();
  });

  it('records a throw or a rejection as the error status, an exception event and error.type', async () => {
    const coded = Object.assign(new Error('down'), { code: 'CACHE_UNAVAILABLE' });
    await expect(withSpan(tracer, 'async', {}, () => Promise.reject(coded))).rejects.toBe(coded);
    expect(() =>
      withSpan(tracer, 'sync', {}, () => {
        throw new TypeError('bad');
      }),
    ).toThrow('bad');
    const [failedAsync, failedSync] = tracing.spans();
    expect(failedAsync?.status).toEqual({ code: 2, message: 'down' });
    expect(failedAsync?.attributes['error.type']).toBe('CACHE_UNAVAILABLE');
    expect(failedAsync?.events.map((event) => event.name)).toEqual(['exception']);
    expect(failedSync?.attributes['error.type']).toBe('TypeError');
  });

  it('adds events to the active span only', () => {
    addSpanEvent('outside');
    withSpan(tracer, 'with-event', {}, () => {
      addSpanEvent('retry', { attempt: 2, reason: undefined });
    });
    const [span] = tracing.spans();
    expect(span?.events.map(({ name, attributes }) => ({ name, attributes }))).toEqual([
      { name: 'retry', attributes: { attempt: 2 } },
    ]);
  });

  it('keeps a started span open until its owner ends it, once', () => {
    const open = startSpan(tracer, 'stream', { kind: 'client' });
    open.run(() => {
      withSpan(tracer, 'child', {}, () => undefined);
    });
    expect(tracing.spansNamed('stream')).toHaveLength(0);
    open.span?.setAttribute('chunks', 3);
    open.end(new Error('aborted'));
    open.end();
    const [stream] = tracing.spansNamed('stream');
    expect(stream?.attributes).toMatchObject({ chunks: 3, 'error.type': 'Error' });
    expect(parentOf(tracing.spansNamed('child')[0]!, tracing.spans())).toBe(stream);
  });

  it('carries a context through a carrier as a W3C traceparent', () => {
    const carrier = withSpan(tracer, 'producer', { kind: 'producer' }, () => injectContext<Record<string, string>>({}));
    const [producer] = tracing.spans();
    expect(carrier.traceparent).toBe(`00-${producer?.spanContext().traceId}-${producer?.spanContext().spanId}-01`);

    const sent = carrier.traceparent ?? '';
    for (const value of [sent, [sent], Buffer.from(sent)]) {
      const parent = extractContext({ traceparent: value });
      withSpan(tracer, 'consumer', { kind: 'consumer', parent }, () => undefined);
    }
    const consumers = tracing.spansNamed('consumer');
    expect(consumers).toHaveLength(3);
    for (const consumer of consumers) {
      expect(consumer.spanContext().traceId).toBe(producer?.spanContext().traceId);
      expect(consumer.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
    }
  });

  it('links to other contexts, starts new roots, and runs work inside an extracted context', () => {
    const linked = extractContext({ traceparent });
    const garbled = extractContext({ traceparent: 'not-a-traceparent' });
    withSpan(tracer, 'outer', {}, () => {
      withSpan(tracer, 'linked', { root: true, links: [linked!, garbled!] }, () => undefined);
    });
    const root = tracing.spansNamed('linked')[0];
    expect(root?.parentSpanContext).toBeUndefined();
    expect(root?.spanContext().traceId).not.toBe(tracing.spansNamed('outer')[0]?.spanContext().traceId);
    expect(root?.links.map((link) => link.context.spanId)).toEqual(['b7ad6b7169203331']);
    expect(withContext(linked, () => activeTraceIds()?.trace_id)).toBe('0af7651916cd43dd8448eb211c80319c');
  });
});

describe('after the SDK is unregistered', () => {
  it('records nothing', () => {
    const tracing = startTestTracing();
    void tracing.stop();
    withSpan(tracer, 'late', {}, (span) => {
      expect(span).toBeUndefined();
    });
    expect(tracing.spans()).toEqual([]);
  });
});
