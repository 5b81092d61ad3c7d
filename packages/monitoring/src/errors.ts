import { InfraError, errorCodes, errorFamily, invalidOptionClass } from '@infra/core';
import type { ErrorCodeMap, ErrorGuard, InvalidOptionClass, InvalidOptionErrorOf } from '@infra/core';

const codes = [
  'INVALID_OPTION',
  'INVALID_METRIC',
  'INVALID_LABEL',
  'DUPLICATE_METRIC',
  'UNKNOWN_METRIC',
  'DUPLICATE_DOMAIN',
  'HEALTH_CHECK_FAILED',
  'MISSING_PEER',
  'TRANSPORT_UNAVAILABLE',
] as const;

/** The `code` of an error of this package. */
export type MonitoringErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/monitoring. Identify errors by `code` (or with
 * {@link isMonitoringError}), never by `instanceof`: two copies of this package may be installed.
 */
export const MonitoringErrorCodes: ErrorCodeMap<MonitoringErrorCode> = errorCodes(codes);

/** Base class of every error this package throws or reports on its own account. */
export class MonitoringError extends InfraError<MonitoringErrorCode> {}

/** True when `error` comes from @infra/monitoring (any installed copy), optionally with the given code. */
export const isMonitoringError: ErrorGuard<MonitoringError, MonitoringErrorsByCode> = errorFamily(
  MonitoringError,
  '@infra/monitoring',
).is;

/** Thrown when an option or argument is out of range or of the wrong type (`option` names it). */
export const InvalidOptionError: InvalidOptionClass<MonitoringError> = invalidOptionClass(MonitoringError);
/** An error made by {@link InvalidOptionError}: a `MonitoringError` with `option` and `value`. */
export type InvalidOptionError = InvalidOptionErrorOf<MonitoringError>;

/** Reported (not thrown) by the health-check scheduler for a failing critical check. */
export class HealthCheckFailedError extends MonitoringError {
  readonly check: string;

  constructor(check: string, output: string | undefined, cause?: unknown) {
    super('HEALTH_CHECK_FAILED', `Critical health check "${check}" failed${output ? `: ${output}` : ''}`, { cause });
    this.check = check;
  }
}

/** Thrown when an optional peer dependency is needed but not installed. */
export class MissingPeerError extends MonitoringError {
  readonly peer: string;

  constructor(peer: string, feature: string, cause?: unknown) {
    super('MISSING_PEER', `${feature} needs the optional peer "${peer}": install it with \`npm install ${peer}\``, {
      cause,
    });
    this.peer = peer;
  }
}

/** The class of each code that has one, for the narrowing of {@link isMonitoringError}. */
export interface MonitoringErrorsByCode {
  INVALID_OPTION: InvalidOptionError;
  HEALTH_CHECK_FAILED: HealthCheckFailedError;
  MISSING_PEER: MissingPeerError;
}
