import { optionChecks, type OptionChecks } from '@infra/core';
import { InvalidOptionError } from './errors.js';

/** Checks of options, throwing {@link InvalidOptionError} with `INVALID_OPTION`. */
export const check: OptionChecks = optionChecks(InvalidOptionError);

/** Checks of arguments, throwing {@link InvalidOptionError} with `INVALID_ARGUMENT`. */
export const checkArgument: OptionChecks = optionChecks(
  (option, value, expected) => new InvalidOptionError(option, value, expected, 'INVALID_ARGUMENT'),
);

type Code = 'INVALID_ARGUMENT' | undefined;

const checksFor = (code: Code): OptionChecks => (code === 'INVALID_ARGUMENT' ? checkArgument : check);

/** An integer >= `min` (0 by default: milliseconds, counts, where 0 often means "off"). */
export function integer(option: string, value: unknown, min = 0): number {
  return check.integer(option, value, min);
}

/** A string with something other than whitespace in it. */
export function nonEmptyString(option: string, value: unknown, code?: Code): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new InvalidOptionError(option, value, 'a non-empty string', code);
  }
  return value;
}

/** An object that is neither null nor an array. */
export function plainObject(option: string, value: unknown, code?: Code): Record<string, unknown> {
  return checksFor(code).plainObject(option, value);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * A table name, optionally schema-qualified (`outbox`, `app.outbox`), quoted for SQL. Names are
 * restricted to plain identifiers so they can be spliced into statements safely.
 */
export function qualifiedName(option: string, value: unknown): string {
  const text = nonEmptyString(option, value);
  const parts = text.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new InvalidOptionError(option, value, 'a table name such as "outbox" or "app.outbox" (letters, digits, _)');
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** The SQL text and parameters every `query` accepts. */
export function checkQuery(sql: unknown, params: unknown): void {
  if (typeof sql !== 'string' || sql.trim().length === 0) {
    throw new InvalidOptionError('sql', sql, 'a non-empty SQL string', 'INVALID_ARGUMENT');
  }
  if (params !== undefined && !Array.isArray(params)) {
    throw new InvalidOptionError('params', params, 'an array of parameters', 'INVALID_ARGUMENT');
  }
}
