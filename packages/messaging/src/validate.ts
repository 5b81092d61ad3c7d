import { optionChecks, type OptionChecks } from '@infra/core';
import { InvalidOptionError } from './errors.js';

type Kind = 'INVALID_OPTION' | 'INVALID_ARGUMENT';

/** Core's checks, throwing {@link InvalidOptionError} with the code `kind`: a bad option, or a bad call argument. */
const checks: Record<Kind, OptionChecks> = {
  INVALID_OPTION: optionChecks(InvalidOptionError),
  INVALID_ARGUMENT: optionChecks(
    (option, value, expected) => new InvalidOptionError(option, value, expected, 'INVALID_ARGUMENT'),
  ),
};

export function integer(option: string, value: unknown, min = 1, kind: Kind = 'INVALID_OPTION'): number {
  return checks[kind].integer(option, value, min);
}

export function nonNegative(option: string, value: unknown, kind: Kind = 'INVALID_OPTION'): number {
  return checks[kind].nonNegative(option, value);
}

export function nonEmptyString(option: string, value: unknown, kind: Kind = 'INVALID_OPTION'): string {
  return checks[kind].nonEmptyString(option, value);
}

export function plainObject(option: string, value: unknown, kind: Kind = 'INVALID_OPTION'): Record<string, unknown> {
  return checks[kind].plainObject(option, value);
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the function type
export function fn<F>(option: string, value: unknown, kind: Kind = 'INVALID_ARGUMENT'): F {
  return checks[kind].fn<F>(option, value);
}

export function oneOf<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  kind: Kind = 'INVALID_OPTION',
): T {
  return checks[kind].oneOf(option, value, allowed);
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

/** An object with every method of `methods` (an injected client or store), or `INVALID_OPTION`. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type
export function withMethods<T extends object>(
  option: string,
  value: unknown,
  methods: readonly string[],
  expected: string,
): T {
  return checks.INVALID_OPTION.withMethods<T>(option, value, methods, expected);
}
