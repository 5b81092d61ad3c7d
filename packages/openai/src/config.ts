import { inspect } from 'node:util';
import { describeValue } from '@infra/core';
import { InvalidConfigError } from './errors.js';

/** Validated settings of an OpenAI client; pass it to `createOpenAIClient` as it is. */
export interface OpenAIConfig {
  readonly apiKey: string;
  readonly baseURL: string | undefined;
  readonly organization: string | undefined;
  readonly project: string | undefined;
  /** Per-attempt timeout in ms. */
  readonly timeout: number;
  /** Retries after the first attempt. */
  readonly maxRetries: number;
}

/** Raw settings, from code or a config file; each overrides its environment variable. */
export interface OpenAIConfigInput {
  apiKey?: unknown;
  baseURL?: unknown;
  organization?: unknown;
  project?: unknown;
  timeout?: unknown;
  maxRetries?: unknown;
}

/** Environment variables by name, as `process.env` holds them. */
export type OpenAIEnv = Record<string, string | undefined>;

/** Environment variables read by `configFactory.fromEnv`, per setting. */
export const ENV_VARIABLES = {
  apiKey: 'OPENAI_API_KEY',
  baseURL: 'OPENAI_BASE_URL',
  organization: 'OPENAI_ORG_ID',
  project: 'OPENAI_PROJECT_ID',
  timeout: 'OPENAI_TIMEOUT_MS',
  maxRetries: 'OPENAI_MAX_RETRIES',
} as const;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RETRIES = 2;

function text(variable: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string')
    throw new InvalidConfigError(variable, `${variable} must be a string, got ${typeof value}`);
  return value.trim() === '' ? undefined : value.trim();
}

function apiKeyOf(variable: string, value: unknown): string {
  if (value === undefined || value === null || value === '') {
    throw new InvalidConfigError(variable, `${variable} is required: set it to an OpenAI API key`);
  }
  // The value is a secret: messages describe it, never show it.
  if (typeof value !== 'string')
    throw new InvalidConfigError(variable, `${variable} must be a string (value not shown)`);
  if (/\s/.test(value) || value.length < 8) {
    throw new InvalidConfigError(
      variable,
      `${variable} is malformed: expected at least 8 characters without spaces (value not shown)`,
    );
  }
  return value;
}

function urlOf(variable: string, value: unknown): string | undefined {
  const raw = text(variable, value);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidConfigError(variable, `${variable} must be an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidConfigError(variable, `${variable} must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.username || url.password) {
    throw new InvalidConfigError(variable, `${variable} must not carry credentials (value not shown)`);
  }
  return raw.replace(/\/+$/, '');
}

function integerOf(variable: string, value: unknown, fallback: number, min: number, max: number, unit: string): number {
  if (value === undefined || value === '') return fallback;
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < min || number > max) {
    const shown = describeValue(value);
    throw new InvalidConfigError(
      variable,
      `${variable} must be an integer from ${min} to ${max} (${unit}), got ${shown}`,
    );
  }
  return number;
}

/** Makes the config print and serialize without its key. */
function sealed(config: OpenAIConfig): OpenAIConfig {
  const redacted = (): Record<string, unknown> => ({ ...config, apiKey: '[redacted]' });
  Object.defineProperty(config, 'toJSON', { value: redacted });
  Object.defineProperty(config, inspect.custom, { value: () => redacted() });
  return Object.freeze(config);
}

/**
 * Builds a validated config: each setting from `input` when given, else from its environment
 * variable (names in {@link ENV_VARIABLES}), else its default. A bad value throws
 * `INVALID_CONFIG` naming the variable (or option) — and never showing the API key.
 */
export function createOpenAIConfig(input: OpenAIConfigInput = {}, env: OpenAIEnv = {}): OpenAIConfig {
  if (typeof (input as unknown) !== 'object' || (input as unknown) === null)
    throw new InvalidConfigError('input', 'OpenAI config input must be an object');
  const pick = (key: keyof typeof ENV_VARIABLES): [string, unknown] =>
    input[key] !== undefined ? [key, input[key]] : [ENV_VARIABLES[key], env[ENV_VARIABLES[key]]];
  return sealed({
    apiKey: apiKeyOf(...pick('apiKey')),
    baseURL: urlOf(...pick('baseURL')),
    organization: text(...pick('organization')),
    project: text(...pick('project')),
    timeout: integerOf(...pick('timeout'), DEFAULT_TIMEOUT_MS, 1, 2_147_483_647, 'milliseconds'),
    maxRetries: integerOf(...pick('maxRetries'), DEFAULT_MAX_RETRIES, 0, 10, 'retries'),
  });
}

/** The documented config factory. */
export const configFactory: {
  /** From environment variables (default `process.env`), with optional overrides. */
  fromEnv(env?: OpenAIEnv, overrides?: OpenAIConfigInput): OpenAIConfig;
  /** From an object only; no environment variable is read. */
  create(input: OpenAIConfigInput): OpenAIConfig;
} = {
  fromEnv: (env = process.env, overrides = {}) => createOpenAIConfig(overrides, env),
  create: (input) => createOpenAIConfig(input, {}),
};
