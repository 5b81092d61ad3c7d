import { optionChecks, type OptionChecks } from '@infra/core';
import { InvalidOptionError } from './errors.js';

type Kind = 'INVALID_OPTION' | 'INVALID_ARGUMENT';

export function integer(option: string, value: unknown, min = 1, kind: Kind = 'INVALID_OPTION'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(option, value, `an integer >= ${min}`, kind);
  }
  return value;
}

export function nonNegative(option: string, value: unknown, kind: Kind = 'INVALID_OPTION'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(option, value, 'a finite number >= 0', kind);
  }
  return value;
}

export function nonEmptyString(option: string, value: unknown, kind: Kind = 'INVALID_OPTION'): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidOptionError(option, value, 'a non-empty string', kind);
  return value;
}

export function plainObject(option: string, value: unknown, kind: Kind = 'INVALID_OPTION'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidOptionError(option, value, 'an object', kind);
  return value as Record<string, unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the function type
export function fn<F>(option: string, value: unknown, kind: Kind = 'INVALID_ARGUMENT'): F {
  if (typeof value !== 'function') throw new InvalidOptionError(option, value, 'a function', kind);
  return value as F;
}

export function oneOf<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  kind: Kind = 'INVALID_OPTION',
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(option, value, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, kind);
  }
  return value as T;
}

const topicPattern = /^[\w.:\-/]+$/;

/**
 * A topic name: 1–249 characters from letters, digits, `.`, `_`, `-`, `:` and `/`, so that the
 * same name is valid as a Redis key and as a Kafka topic (Kafka forbids `:` and `/`: the Kafka
 * adapter checks those itself).
 */
export function topicName(option: string, value: unknown, kind: Kind = 'INVALID_ARGUMENT'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 249 || !topicPattern.test(value)) {
    throw new InvalidOptionError(
      option,
      value,
      'a topic name (1-249 characters: letters, digits, ".", "_", "-", ":", "/")',
      kind,
    );
  }
  return value;
}

/** String headers: an object whose values are all strings. */
export function headerMap(option: string, value: unknown, kind: Kind = 'INVALID_ARGUMENT'): Record<string, string> {
  const headers = plainObject(option, value, kind);
  for (const [name, header] of Object.entries(headers)) {
    if (typeof header !== 'string') throw new InvalidOptionError(`${option}.${name}`, header, 'a string', kind);
  }
  return headers as Record<string, string>;
}

const checks: OptionChecks = optionChecks(InvalidOptionError);

/** An object with every method of `methods` (an injected client or store), or `INVALID_OPTION`. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type
export function withMethods<T extends object>(
  option: string,
  value: unknown,
  methods: readonly string[],
  expected: string,
): T {
  return checks.withMethods<T>(option, value, methods, expected);
}
