// Hooks for tests and benchmarks of code that uses @infra/core; not for production code.
export { hideOtelApi } from './telemetry/hide-otel-api.js';
