/**
 * Error codes raised by @infra/messaging. Identify errors by `code` (or with
 * {@link isMessagingError}), never by `instanceof`: two copies of this package may be installed.
 */
export const ErrorCodes = {
  INVALID_OPTION: 'INVALID_OPTION',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  SERIALIZATION_FAILED: 'SERIALIZATION_FAILED',
  DESERIALIZATION_FAILED: 'DESERIALIZATION_FAILED',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  PUBLISH_FAILED: 'PUBLISH_FAILED',
  ADAPTER_UNAVAILABLE: 'ADAPTER_UNAVAILABLE',
  MISSING_PEER: 'MISSING_PEER',
  CLOSED: 'CLOSED',
  ALREADY_CONFIGURED: 'ALREADY_CONFIGURED',
  NO_TRANSACTION: 'NO_TRANSACTION',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const marker = Symbol.for('@infra/messaging.error');

export interface MessagingErrorInit {
  cause?: unknown;
  isRetryable?: boolean;
  /** Topic the failure concerns, when there is one. */
  topic?: string;
}

/** Base class of every error this package throws on its own account. */
export class MessagingError extends Error {
  readonly code: ErrorCode;
  readonly isRetryable: boolean;
  readonly topic: string | undefined;

  constructor(code: ErrorCode, message: string, init: MessagingErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'MessagingError';
    this.code = code;
    this.isRetryable = init.isRetryable ?? false;
    this.topic = init.topic;
  }

  /** True for any error created by any copy of @infra/messaging. */
  static isInstance(error: unknown): error is MessagingError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

// The marker lives on the prototype: every subclass carries it, across copies of the package.
Object.defineProperty(MessagingError.prototype, marker, { value: true });

/** True when `error` comes from @infra/messaging (any installed copy), optionally with the given code. */
export function isMessagingError<C extends ErrorCode>(error: unknown, code?: C): error is MessagingError & { code: C } {
  return MessagingError.isInstance(error) && (code === undefined || error.code === code);
}

/** A bad option (at construction) or argument (at a call); `option` names it. */
export class InvalidOptionError extends MessagingError {
  readonly option: string;
  readonly value: unknown;

  constructor(
    option: string,
    value: unknown,
    expected: string,
    code: 'INVALID_OPTION' | 'INVALID_ARGUMENT' = 'INVALID_OPTION',
  ) {
    super(
      code,
      `Invalid ${code === 'INVALID_OPTION' ? 'option' : 'argument'} "${option}": ` +
        `expected ${expected}, got ${describeValue(value)}`,
    );
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
  }
}

/** A payload that fails its schema; `issues` holds what the validator reported. */
export class ValidationError extends MessagingError {
  readonly issues: readonly unknown[];

  constructor(topic: string, issues: readonly unknown[], cause?: unknown) {
    super('VALIDATION_FAILED', `Payload of "${topic}" failed validation: ${summarizeIssues(issues)}`, { topic, cause });
    this.name = 'ValidationError';
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

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null)
    return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
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

/** The message of an unknown thrown value, for headers and events. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : describeValue(error);
}
