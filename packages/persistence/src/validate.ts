import { InvalidOptionError } from './errors.js';

/** Integer >= min (milliseconds, counts). */
export function integer(option: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(option, value, `an integer >= ${min}`);
  }
  return value;
}

export function optionalInteger(option: string, value: unknown, min = 0): number | undefined {
  return value === undefined ? undefined : integer(option, value, min);
}

/** Number in the interval (0, 1]. */
export function ratio(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new InvalidOptionError(option, value, 'a number in (0, 1]');
  }
  return value;
}

export function optionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'a boolean');
  return value;
}

export function nonEmptyString(option: string, value: unknown, code?: 'INVALID_ARGUMENT'): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new InvalidOptionError(option, value, 'a non-empty string', code);
  }
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(option, value, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as T;
}

export function fn<F>(option: string, value: F, code?: 'INVALID_ARGUMENT'): F {
  if (typeof value !== 'function') throw new InvalidOptionError(option, value, 'a function', code);
  return value;
}

export function plainObject(option: string, value: unknown, code?: 'INVALID_ARGUMENT'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, value, 'an object', code);
  }
  return value as Record<string, unknown>;
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
