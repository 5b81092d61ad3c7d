/** What every coded error may carry besides its code and message. */
export interface InfraErrorOptions {
  /** The error this one explains (a driver's error, an abort reason). */
  cause?: unknown;
  /** True when the same call may succeed if tried again later. @default false */
  isRetryable?: boolean;
}

/**
 * Base of the errors the @infra packages throw on their own account: a stable string `code`, an
 * `isRetryable` flag and a standard `cause`. Each package extends it once (`CacheError`,
 * `MessagingError`, …) and gives that class an {@link errorFamily}.
 */
export class InfraError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly isRetryable: boolean;

  constructor(code: Code, message: string, options: InfraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

/**
 * The family of an error class lives on its prototype under a registry symbol, so that an error
 * thrown by one installed copy of a package is recognised by another copy: `instanceof` cannot
 * do that.
 */
const FAMILY = Symbol.for('@infra/core.error-family');

/** Errors of a family, by code, for the narrowing of {@link ErrorFamily.is}. */
export type ErrorsByCode<Base extends InfraError> = Partial<Record<Base['code'], Base>>;

/** Recognises the errors of one package, from any installed copy of it. */
export interface ErrorFamily<Base extends InfraError, ByCode extends ErrorsByCode<Base> = ErrorsByCode<Base>> {
  /** The package the family belongs to, e.g. `@infra/cache`. */
  readonly name: string;
  /**
   * True when `error` belongs to this family, and has `code` when one is given. With a code, the
   * error narrows to that code's class (`CircuitOpenError` for `CIRCUIT_OPEN`) and its fields.
   */
  readonly is: <C extends Base['code'] = Base['code']>(
    error: unknown,
    code?: C,
  ) => error is C extends keyof ByCode ? NonNullable<ByCode[C]> : Base & { code: C };
}

/**
 * Makes `base` (a subclass of {@link InfraError}) the root of the error family `name`: every
 * error of `base` or of its subclasses is then recognised by the returned family's `is`.
 */
export function errorFamily<Base extends InfraError, ByCode extends ErrorsByCode<Base> = ErrorsByCode<Base>>(
  base: abstract new (...args: never[]) => Base,
  name: string,
): ErrorFamily<Base, ByCode> {
  Object.defineProperty(base.prototype, FAMILY, { value: name });
  return {
    name,
    is: (error: unknown, code?: string): boolean =>
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[FAMILY] === name &&
      (code === undefined || (error as { code?: unknown }).code === code),
  } as ErrorFamily<Base, ByCode>;
}

/** The codes object of an error family: each code under its own name. */
export type ErrorCodeMap<Code extends string> = { readonly [K in Code]: K };

/**
 * The codes object of an error family, `{ CODE: 'CODE', … }`, made from its list of codes: what
 * each package exports as `<Name>ErrorCodes`, to compare `error.code` with a name rather than a
 * string. The object is frozen.
 */
export function errorCodes<const Code extends string>(codes: readonly Code[]): ErrorCodeMap<Code> {
  const byName: Record<string, string> = {};
  for (const code of codes) byName[code] = code;
  return Object.freeze(byName) as ErrorCodeMap<Code>;
}

/** The type guard of an error family, {@link ErrorFamily.is}: what each package exports as `is<Name>Error`. */
export type ErrorGuard<Base extends InfraError, ByCode extends ErrorsByCode<Base> = ErrorsByCode<Base>> = ErrorFamily<
  Base,
  ByCode
>['is'];

/** The codes of a bad option (at construction) and of a bad argument (at a call). */
export type InvalidOptionCode = 'INVALID_OPTION' | 'INVALID_ARGUMENT';

/**
 * An error of the family `Base` for a bad option or argument: `option` names it, `value` is what
 * was given, and the message says what was expected ({@link invalidOptionMessage}).
 */
export type InvalidOptionErrorOf<Base extends InfraError, Code extends string = InvalidOptionCode> = Base & {
  readonly code: Code;
  /** The option or argument, e.g. `timeoutMs`. */
  readonly option: string;
  /** The value that was refused. */
  readonly value: unknown;
};

/**
 * The class {@link invalidOptionClass} makes: `new InvalidOptionError(option, value, expected, code?)`,
 * a subclass of the family's base class, so that `instanceof` the base class and the family's `is`
 * both hold.
 */
export interface InvalidOptionClass<
  Base extends InfraError,
  Code extends Base['code'] = Extract<Base['code'], InvalidOptionCode>,
> {
  /** `code` is `INVALID_OPTION` unless given (`INVALID_ARGUMENT` for a bad argument of a call). */
  new (option: string, value: unknown, expected: string, code?: Code): InvalidOptionErrorOf<Base, Code>;
  readonly prototype: InvalidOptionErrorOf<Base, Code>;
}

/**
 * Makes the `INVALID_OPTION` (and `INVALID_ARGUMENT`) error class of a family: a subclass of `base`
 * called `name`, whose message is {@link invalidOptionMessage}. `base` takes the arguments of
 * {@link InfraError}'s constructor.
 */
export function invalidOptionClass<
  Base extends InfraError,
  Code extends Base['code'] = Extract<Base['code'], InvalidOptionCode>,
>(
  base: abstract new (code: Base['code'], message: string, options?: InfraErrorOptions) => Base,
  name = 'InvalidOptionError',
): InvalidOptionClass<Base, Code> {
  const Parent = base as unknown as new (code: string, message: string) => InfraError;
  const InvalidOption = class extends Parent {
    readonly option: string;
    readonly value: unknown;

    constructor(option: string, value: unknown, expected: string, code: InvalidOptionCode = 'INVALID_OPTION') {
      super(code, invalidOptionMessage(option, value, expected, code === 'INVALID_OPTION' ? 'option' : 'argument'));
      this.option = option;
      this.value = value;
    }
  };
  // `name` of the errors (set from `new.target.name` by InfraError) and of the class itself.
  Object.defineProperty(InvalidOption, 'name', { value: name });
  return InvalidOption as unknown as InvalidOptionClass<Base, Code>;
}

/** The family of an @infra error (`@infra/cache`, …), or undefined for any other value. */
export function errorFamilyOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const family = (error as Record<symbol, unknown>)[FAMILY];
  return typeof family === 'string' ? family : undefined;
}

/**
 * True when `error` says that trying again may help: its `isRetryable` is true. Works for the
 * errors of every @infra package and for any error that follows the same convention.
 */
export function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { isRetryable?: unknown }).isRetryable === true;
}

/**
 * A short description of a value for error messages: strings quoted and cut at 80 characters, a
 * RegExp (a pattern given as an option) shown as its source.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${String(value)}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (value instanceof RegExp) return String(value);
  return `an ${typeof value}`;
}

/**
 * The message of every package's `INVALID_OPTION` (or, with `kind: 'argument'`, `INVALID_ARGUMENT`)
 * error: `Invalid option "ttl": expected a finite number >= 0, got -1`.
 */
export function invalidOptionMessage(
  option: string,
  value: unknown,
  expected: string,
  kind: 'option' | 'argument' = 'option',
): string {
  return `Invalid ${kind} "${option}": expected ${expected}, got ${describeValue(value)}`;
}

/** The message of anything thrown, for events, logs and headers. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : describeValue(error);
}
