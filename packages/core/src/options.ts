import { isLogger, type Logger } from './logger.js';

/** Builds the error a package throws for a bad option or argument. */
export type InvalidOptionFactory = (option: string, value: unknown, expected: string) => Error;

/** The class of the error a package throws for a bad option or argument (see `invalidOptionClass`). */
export type InvalidOptionConstructor = new (option: string, value: unknown, expected: string) => Error;

/**
 * Checks of option and argument values. Each returns the value, typed, or throws the error the
 * package's factory makes: a code of the package, and a message naming the option and the value.
 */
export interface OptionChecks {
  /** A safe integer >= `min` (1 by default). */
  integer(option: string, value: unknown, min?: number): number;
  /** A finite number >= 0 (milliseconds, counts). */
  nonNegative(option: string, value: unknown): number;
  /** A finite number > 0. */
  positive(option: string, value: unknown): number;
  /** A number in (0, 1]. */
  ratio(option: string, value: unknown): number;
  nonEmptyString(option: string, value: unknown): string;
  boolean(option: string, value: unknown): boolean;
  oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T;
  /** An object that is neither null nor an array. */
  plainObject(option: string, value: unknown): Record<string, unknown>;
  /** A function; the caller names the function type it expects. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type
  fn<F>(option: string, value: unknown): F;
  /** `undefined`, or a function. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type
  optionalFn<F>(option: string, value: unknown): F | undefined;
  /** `undefined`, or a {@link Logger} (a pino logger fits): an object with debug, info, warn and error. */
  optionalLogger(option: string, value: unknown): Logger | undefined;
  /**
   * An object with every method of `methods` (an injected client or store); `expected` describes it
   * in the error, e.g. `'an ioredis client'`. The caller names the type it expects.
   */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type
  withMethods<T extends object>(option: string, value: unknown, methods: readonly string[], expected: string): T;
}

/** The checks, throwing what `invalid` makes: a factory, or an error class constructed with the same arguments. */
export function optionChecks(invalid: InvalidOptionFactory | InvalidOptionConstructor): OptionChecks {
  const make = isErrorClass(invalid) ? invalid : undefined;
  const fail = (option: string, value: unknown, expected: string): never => {
    throw make === undefined
      ? (invalid as InvalidOptionFactory)(option, value, expected)
      : new make(option, value, expected);
  };
  const isFinite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
  return {
    integer: (option, value, min = 1) =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= min
        ? value
        : fail(option, value, `an integer >= ${min}`),
    nonNegative: (option, value) =>
      isFinite(value) && value >= 0 ? value : fail(option, value, 'a finite number >= 0'),
    positive: (option, value) => (isFinite(value) && value > 0 ? value : fail(option, value, 'a finite number > 0')),
    ratio: (option, value) =>
      isFinite(value) && value > 0 && value <= 1 ? value : fail(option, value, 'a number in (0, 1]'),
    nonEmptyString: (option, value) =>
      typeof value === 'string' && value.length > 0 ? value : fail(option, value, 'a non-empty string'),
    boolean: (option, value) => (typeof value === 'boolean' ? value : fail(option, value, 'a boolean')),
    oneOf: <T extends string>(option: string, value: unknown, allowed: readonly T[]): T =>
      typeof value === 'string' && (allowed as readonly string[]).includes(value)
        ? (value as T)
        : fail(option, value, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`),
    plainObject: (option, value) =>
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : fail(option, value, 'an object'),
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- as in the interface
    fn: <F>(option: string, value: unknown): F =>
      typeof value === 'function' ? (value as F) : fail(option, value, 'a function'),
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- as in the interface
    optionalFn: <F>(option: string, value: unknown): F | undefined =>
      value === undefined || typeof value === 'function' ? (value as F | undefined) : fail(option, value, 'a function'),
    optionalLogger: (option, value) =>
      value === undefined || isLogger(value)
        ? value
        : fail(option, value, 'a logger with debug, info, warn and error methods (a pino logger)'),
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- as in the interface
    withMethods: <T extends object>(option: string, value: unknown, methods: readonly string[], expected: string): T =>
      (typeof value === 'object' || typeof value === 'function') &&
      value !== null &&
      methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
        ? (value as T)
        : fail(option, value, expected),
  };
}

// An arrow function has no prototype, and a factory function's prototype is not an Error.
function isErrorClass(invalid: InvalidOptionFactory | InvalidOptionConstructor): invalid is InvalidOptionConstructor {
  return (invalid as { prototype?: unknown }).prototype instanceof Error;
}
