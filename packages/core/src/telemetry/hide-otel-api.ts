import { InfraError, invalidOptionMessage } from '../errors.js';

let hidden = false;

/**
 * With `true`, the telemetry helpers behave as if @opentelemetry/api were not installed; `false`
 * undoes it. For tests and benchmarks of the "not installed" path.
 */
export function hideOtelApi(hide: boolean): void {
  if (typeof hide !== 'boolean')
    throw new InfraError('INVALID_ARGUMENT', invalidOptionMessage('hide', hide, 'a boolean', 'argument'));
  hidden = hide;
}

/** True while {@link hideOtelApi} hides the API. */
export function otelApiHidden(): boolean {
  return hidden;
}
