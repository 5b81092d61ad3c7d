import { InvalidOptionError } from './errors.js';

/** Strictly positive finite number. */
export function positive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, value, 'a finite number > 0');
  }
  return value;
}

/** Non-negative finite number. */
export function nonNegative(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(option, value, 'a finite number >= 0');
  }
  return value;
}

export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new InvalidOptionError(option, value, 'a non-empty string');
  }
  return value;
}

export function optionalBoolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'a boolean');
  return value;
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the function type it expects
export function fn<F>(option: string, value: unknown): F {
  if (typeof value !== 'function') throw new InvalidOptionError(option, value, 'a function');
  return value as F;
}

export function optionalObject(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, value, 'an object');
  }
  return value as Record<string, unknown>;
}

export function stringArray(option: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new InvalidOptionError(option, value, 'an array of non-empty strings');
  }
  return [...(value as string[])];
}
