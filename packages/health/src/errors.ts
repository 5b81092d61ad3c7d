import { InfraError, errorCodes, errorFamily, invalidOptionClass, optionChecks } from '@infra/core';
import type { ErrorCodeMap, ErrorGuard, InvalidOptionClass, InvalidOptionErrorOf, OptionChecks } from '@infra/core';

const codes = ['INVALID_OPTION', 'DUPLICATE_CHECK', 'UNKNOWN_CHECK', 'INVALID_STATUS', 'CHECK_TIMEOUT'] as const;

/** The `code` of an error of this package. */
export type HealthErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/health. Identify errors by `code` (or with {@link isHealthError}),
 * never by `instanceof`: two copies of this package may be installed.
 *
 * - `INVALID_OPTION`: an option or argument out of range or of the wrong type.
 * - `DUPLICATE_CHECK`: `register` with a name already taken.
 * - `UNKNOWN_CHECK`: `run({ names })` with a name that is not registered.
 * - `INVALID_STATUS`: a check returned a status that is none of the known spellings (recorded as
 *   its failure).
 * - `CHECK_TIMEOUT`: a check ran past its timeout (recorded as its failure).
 */
export const HealthErrorCodes: ErrorCodeMap<HealthErrorCode> = errorCodes(codes);

/** Base class of every error this package throws or reports on its own account. */
export class HealthError extends InfraError<HealthErrorCode> {}

/**
 * True when `error` comes from @infra/health (any installed copy), optionally with the given
 * code; with a code, narrows to that code's class (`CHECK_TIMEOUT` → {@link CheckTimeoutError}).
 */
export const isHealthError: ErrorGuard<HealthError, HealthErrorsByCode> = errorFamily(HealthError, '@infra/health').is;

/** Thrown when an option or argument is out of range or of the wrong type (`option` names it). */
export const InvalidOptionError: InvalidOptionClass<HealthError> = invalidOptionClass(HealthError);
/** An error made by {@link InvalidOptionError}: a `HealthError` with `option` and `value`. */
export type InvalidOptionError = InvalidOptionErrorOf<HealthError>;

/** Recorded as a check's error when the check runs past its timeout. */
export class CheckTimeoutError extends HealthError {
  readonly check: string;
  readonly timeoutMs: number;

  constructor(check: string, timeoutMs: number) {
    super('CHECK_TIMEOUT', `Health check "${check}" timed out after ${timeoutMs} ms`, { isRetryable: true });
    this.check = check;
    this.timeoutMs = timeoutMs;
  }
}

/** Checks of options and arguments, throwing {@link InvalidOptionError}. */
export const check: OptionChecks = optionChecks(InvalidOptionError);

/** An optional list of non-empty strings (tags, check names), copied. */
export function stringArray(option: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new InvalidOptionError(option, value, 'an array of non-empty strings');
  }
  return [...(value as string[])];
}

/** The class of each code that has one, for the narrowing of {@link isHealthError}. */
export interface HealthErrorsByCode {
  INVALID_OPTION: InvalidOptionError;
  CHECK_TIMEOUT: CheckTimeoutError;
}
