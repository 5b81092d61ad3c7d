/**
 * Error codes of the demo service. The API's error handler maps them to problem details by code
 * (`*_NOT_FOUND` → 404, `INSUFFICIENT_POINTS` → 409, `INVALID_CONFIG` fails the start).
 */
export const DemoErrorCodes = {
  CHALLENGE_NOT_FOUND: 'CHALLENGE_NOT_FOUND',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  USER_ALREADY_EXISTS: 'USER_ALREADY_EXISTS',
  INSUFFICIENT_POINTS: 'INSUFFICIENT_POINTS',
  INVALID_TRANSFER: 'INVALID_TRANSFER',
  INVALID_CONFIG: 'INVALID_CONFIG',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;

export type DemoErrorCode = (typeof DemoErrorCodes)[keyof typeof DemoErrorCodes];

const marker = Symbol.for('@infra/demo.error');

/** Base class of the errors the demo service throws on its own account. */
export class DemoError extends Error {
  readonly code: DemoErrorCode;
  readonly isRetryable: boolean = false;

  constructor(code: DemoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemoError';
    this.code = code;
  }
}

Object.defineProperty(DemoError.prototype, marker, { value: true });

/** True for an error of the demo service, optionally with the given code. */
export function isDemoError<C extends DemoErrorCode>(error: unknown, code?: C): error is DemoError & { code: C } {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[marker] === true &&
    (code === undefined || (error as DemoError).code === code)
  );
}

export class ChallengeNotFoundError extends DemoError {
  readonly challengeId: string;

  constructor(challengeId: string) {
    super('CHALLENGE_NOT_FOUND', `Challenge "${challengeId}" does not exist`);
    this.name = 'ChallengeNotFoundError';
    this.challengeId = challengeId;
  }
}

export class UserNotFoundError extends DemoError {
  readonly userId: string;

  constructor(userId: string) {
    super('USER_NOT_FOUND', `User "${userId}" does not exist`);
    this.name = 'UserNotFoundError';
    this.userId = userId;
  }
}

export class InsufficientPointsError extends DemoError {
  constructor(userId: string, balance: number, amount: number) {
    super('INSUFFICIENT_POINTS', `User "${userId}" has ${balance} points, cannot transfer ${amount}`);
    this.name = 'InsufficientPointsError';
  }
}

/** A configuration value that cannot be used; `variable` names it, the message never shows a secret. */
export class InvalidConfigError extends DemoError {
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_CONFIG', message, options);
    this.name = 'InvalidConfigError';
    this.variable = variable;
  }
}
