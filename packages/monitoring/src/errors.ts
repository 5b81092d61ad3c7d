import { InfraError, errorFamily, invalidOptionMessage, type ErrorFamily } from '@infra/core';

/**
 * Error codes raised by @infra/monitoring. Identify errors by `code` (or with
 * {@link isMonitoringError}), never by `instanceof`: two copies of this package may be installed.
 */
export const MonitoringErrorCodes = {
  INVALID_OPTION: 'INVALID_OPTION',
  INVALID_METRIC: 'INVALID_METRIC',
  INVALID_LABEL: 'INVALID_LABEL',
  DUPLICATE_METRIC: 'DUPLICATE_METRIC',
  UNKNOWN_METRIC: 'UNKNOWN_METRIC',
  DUPLICATE_DOMAIN: 'DUPLICATE_DOMAIN',
  HEALTH_CHECK_FAILED: 'HEALTH_CHECK_FAILED',
  MISSING_PEER: 'MISSING_PEER',
  TRANSPORT_UNAVAILABLE: 'TRANSPORT_UNAVAILABLE',
} as const;

export type MonitoringErrorCode = (typeof MonitoringErrorCodes)[keyof typeof MonitoringErrorCodes];

/** Base class of every error this package throws or reports on its own account. */
export class MonitoringError extends InfraError<MonitoringErrorCode> {}

/** The class of each code that has one, for the narrowing of {@link isMonitoringError}. */
export interface MonitoringErrorsByCode {
  INVALID_OPTION: InvalidOptionError;
  HEALTH_CHECK_FAILED: HealthCheckFailedError;
  MISSING_PEER: MissingPeerError;
}

const family: ErrorFamily<MonitoringError, MonitoringErrorsByCode> = errorFamily<
  MonitoringError,
  MonitoringErrorsByCode
>(MonitoringError, '@infra/monitoring');

/** True when `error` comes from @infra/monitoring (any installed copy), optionally with the given code. */
export const isMonitoringError: ErrorFamily<MonitoringError, MonitoringErrorsByCode>['is'] = family.is;

/** Thrown when an option or argument is out of range or of the wrong type. */
export class InvalidOptionError extends MonitoringError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super('INVALID_OPTION', invalidOptionMessage(option, value, expected));
    this.option = option;
    this.value = value;
  }
}

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
