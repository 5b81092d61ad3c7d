import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A tracer provider registered globally for a test, recording into memory. */
export interface TestTracing {
  /** The spans ended so far, in the order they ended. */
  spans(): ReadableSpan[];
  /** The ended spans named `name`. */
  spansNamed(name: string): ReadableSpan[];
  /** Forgets the spans ended so far. */
  reset(): void;
  /** Unregisters the provider, context manager and propagator: the process is back to no SDK. */
  stop(): Promise<void>;
}

/**
 * Registers a real OpenTelemetry SDK for the current test file: a tracer provider exporting to
 * memory on each span's end, an AsyncLocalStorage context manager and the W3C propagator.
 */
export function startTestTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('A tracer provider is already registered');
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    spans: () => exporter.getFinishedSpans(),
    spansNamed: (name) => exporter.getFinishedSpans().filter((span) => span.name === name),
    reset: () => {
      exporter.reset();
    },
    stop: async () => {
      trace.disable();
      context.disable();
      propagation.disable();
      contextManager.disable();
      await provider.shutdown();
    },
  };
}

/**
 * {@link startTestTracing} for the enclosing `describe` block: registered before its first test,
 * emptied after each test and unregistered after the last. The returned handle reads the
 * registration of the moment, so it can be taken once at the top of the block.
 */
export function useTestTracing(): TestTracing {
  let current: TestTracing | undefined;
  const active = (): TestTracing => {
    if (current === undefined) throw new Error('useTestTracing(): used outside the tests of its describe block');
    return current;
  };
  beforeAll(() => {
    current = startTestTracing();
  });
  afterEach(() => {
    current?.reset();
  });
  afterAll(async () => {
    await current?.stop();
    current = undefined;
  });
  return {
    spans: () => active().spans(),
    spansNamed: (name) => active().spansNamed(name),
    reset: () => {
      active().reset();
    },
    stop: () => active().stop(),
  };
}

/** The span whose id is the parent of `span`, among `spans`. */
export function parentOf(span: ReadableSpan, spans: readonly ReadableSpan[]): ReadableSpan | undefined {
  const parentId = span.parentSpanContext?.spanId;
  return parentId === undefined ? undefined : spans.find((candidate) => candidate.spanContext().spanId === parentId);
}

export type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
