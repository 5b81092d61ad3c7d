// The three tracing set-ups a benchmark compares, switched per task in one process: the
// @opentelemetry/api package hidden (as if not installed), the API installed with no SDK, and a
// real SDK with the batch processor production uses, exporting to nowhere.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * @param {(hidden: boolean) => void} hideOtelApi `hideOtelApi` of `@infra/core/testing`
 * @returns {{ absent: () => void, noSdk: () => void, sdk: () => void, exported: () => number }}
 */
export function telemetryModes(hideOtelApi) {
  let exported = 0;
  const exporter = {
    export(spans, done) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  // `disable()` unregisters the provider and context manager but leaves the API's registry object
  // on the global; removing it gives back the state of a process that never registered an SDK.
  const registry = Symbol.for('opentelemetry.js.api.1');
  const off = () => {
    trace.disable();
    context.disable();
    contextManager.disable();
    Reflect.deleteProperty(globalThis, registry);
  };
  return {
    absent: () => {
      off();
      hideOtelApi(true);
    },
    noSdk: () => {
      off();
      hideOtelApi(false);
    },
    sdk: () => {
      off();
      hideOtelApi(false);
      trace.setGlobalTracerProvider(provider);
      context.setGlobalContextManager(contextManager.enable());
    },
    exported: () => exported,
  };
}
