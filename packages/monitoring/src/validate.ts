import { optionChecks, type Logger, type OptionChecks } from '@infra/core';
import { InvalidOptionError } from './errors.js';

/** Option checks that throw this package's `INVALID_OPTION`. */
export const check: OptionChecks = optionChecks(InvalidOptionError);

export const positive = (option: string, value: unknown): number => check.positive(option, value);
export const integer = (option: string, value: unknown, min = 1): number => check.integer(option, value, min);
export const nonEmptyString = (option: string, value: unknown): string => check.nonEmptyString(option, value);
export const nonNegative = (option: string, value: unknown): number => check.nonNegative(option, value);
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the function type it expects
export const optionalFn = <F>(option: string, value: unknown): F | undefined => check.optionalFn<F>(option, value);

/** `undefined` (then `fallback`), or a boolean. */
export function optionalBoolean(option: string, value: unknown, fallback: boolean): boolean {
  return value === undefined ? fallback : check.boolean(option, value);
}

/** `undefined` (then `{}`), or an object. */
export function optionalObject(option: string, value: unknown): Record<string, unknown> {
  return value === undefined ? {} : check.plainObject(option, value);
}

/** `undefined`, or a pino-compatible {@link Logger}. */
export const optionalLogger = (option: string, value: unknown): Logger | undefined =>
  check.optionalLogger(option, value);
