import { InfraError, describeValue, errorCodes, errorFamily, errorMessage, invalidOptionClass } from '@infra/core';
import type {
  ErrorCodeMap,
  ErrorFamily,
  ErrorGuard,
  InfraErrorOptions,
  InvalidOptionClass,
  InvalidOptionErrorOf,
} from '@infra/core';

export { describeValue, errorMessage };

const codes = [
  'INVALID_OPTION',
  'INVALID_ARGUMENT',
  'SERIALIZATION_FAILED',
  'DESERIALIZATION_FAILED',
  'VALIDATION_FAILED',
  'PUBLISH_FAILED',
  'ADAPTER_UNAVAILABLE',
  'MISSING_PEER',
  'CLOSED',
  'ALREADY_CONFIGURED',
  'NO_TRANSACTION',
  'LEASE_LOST',
] as const;

/** The `code` of an error of this package. */
export type ErrorCode = (typeof codes)[number];

/**
 * Error codes raised by @infra/messaging. Identify errors by `code` (or with
 * {@link isMessagingError}), never by `instanceof`: two copies of this package may be installed.
 */
export const ErrorCodes: ErrorCodeMap<ErrorCode> = errorCodes(codes);

export interface MessagingErrorInit extends InfraErrorOptions {
  /** Topic the failure concerns, when there is one. */
  topic?: string | undefined;
}

/** Base class of every error this package throws on its own account. */
export class MessagingError extends InfraError<ErrorCode> {
  readonly topic: string | undefined;

  constructor(code: ErrorCode, message: string, init: MessagingErrorInit = {}) {
    super(code, message, init);
    this.topic = init.topic;
  }

  /** True for any error created by any copy of @infra/messaging. */
  static isInstance(error: unknown): error is MessagingError {
    return family.is(error);
  }
}

const family: ErrorFamily<MessagingError, MessagingErrorsByCode> = errorFamily<MessagingError, MessagingErrorsByCode>(
  MessagingError,
  '@infra/messaging',
);

/**
 * True when `error` comes from @infra/messaging (any installed copy), optionally with the given
 * code; with a code, narrows to that code's class (`VALIDATION_FAILED` → {@link ValidationError}).
 */
export const isMessagingError: ErrorGuard<MessagingError, MessagingErrorsByCode> = family.is;

/** A bad option (at construction) or, with `INVALID_ARGUMENT`, argument (at a call); `option` names it. */
export const InvalidOptionError: InvalidOptionClass<MessagingError> = invalidOptionClass(MessagingError);
/** An error made by {@link InvalidOptionError}: a `MessagingError` with `option` and `value`. */
export type InvalidOptionError = InvalidOptionErrorOf<MessagingError>;

/** A payload that fails its schema; `issues` holds what the validator reported. */
export class ValidationError extends MessagingError {
  readonly issues: readonly unknown[];

  constructor(topic: string, issues: readonly unknown[], cause?: unknown) {
    super('VALIDATION_FAILED', `Payload of "${topic}" failed validation: ${summarizeIssues(issues)}`, { topic, cause });
    this.issues = issues;
  }
}

/** Thrown by an adapter when the optional client package it needs is not installed. */
export function missingPeer(pkg: string, owner: string, cause: unknown): MessagingError {
  return new MessagingError(
    'MISSING_PEER',
    `${owner} needs the optional peer dependency "${pkg}": install it with \`npm install ${pkg}\``,
    { cause },
  );
}

function summarizeIssues(issues: readonly unknown[]): string {
  if (issues.length === 0) return 'rejected by the validator';
  return issues
    .slice(0, 3)
    .map((issue) => {
      if (typeof issue === 'string') return issue;
      const { message, path } = issue as { message?: unknown; path?: unknown };
      const where = Array.isArray(path) && path.length > 0 ? `${path.map(pathSegment).join('.')}: ` : '';
      return `${where}${typeof message === 'string' ? message : 'invalid'}`;
    })
    .join('; ');
}

function pathSegment(segment: unknown): string {
  return typeof segment === 'object' && segment !== null ? String((segment as { key?: unknown }).key) : String(segment);
}

/** The class of each code that has one, for the narrowing of {@link isMessagingError}. */
export interface MessagingErrorsByCode {
  INVALID_OPTION: InvalidOptionError;
  INVALID_ARGUMENT: InvalidOptionError;
  VALIDATION_FAILED: ValidationError;
}
