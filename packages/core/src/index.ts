export {
  InfraError,
  describeValue,
  errorFamily,
  errorFamilyOf,
  errorMessage,
  invalidOptionMessage,
  isRetryable,
} from './errors.js';
export type { ErrorFamily, ErrorsByCode, InfraErrorOptions } from './errors.js';
export { optionChecks } from './options.js';
export type { InvalidOptionFactory, OptionChecks } from './options.js';
export { EventHub } from './events.js';
export type { Listener } from './events.js';
export { isLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { sleep } from './sleep.js';
export { loadOptionalPeer } from './peers.js';
export { DATE_TAG, UnrepresentableValueError, parseStrict, stringifyStrict } from './json.js';
export type { JsonDates, StrictJsonOptions } from './json.js';
