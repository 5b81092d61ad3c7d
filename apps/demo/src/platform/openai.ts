import type { Logger } from '@infra/core';
import { createOpenAIClient, type ProtectedOpenAI } from '@infra/openai';
import type { AppConfig } from '../config.js';

/**
 * The protected OpenAI client (breaker per model, retries, timeout), or undefined when neither
 * `OPENAI_API_KEY` nor `OPENAI_BASE_URL` is set: the generator then uses its templates.
 */
export function createOpenAI(config: AppConfig, logger: Logger): ProtectedOpenAI | undefined {
  if (config.openai === undefined) return undefined;
  const settings = config.openai;
  return createOpenAIClient({
    apiKey: settings.apiKey,
    ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
    ...(settings.organization === undefined ? {} : { organization: settings.organization }),
    ...(settings.project === undefined ? {} : { project: settings.project }),
    timeout: settings.timeout,
    maxRetries: settings.maxRetries,
    name: 'challenges',
    // A request waits for OpenAI at most a few seconds before the template answers instead.
    retry: { initialDelayMs: 200, maxDelayMs: 2000, maxRetryAfterMs: 5000 },
    breaker: { failureThreshold: 0.5, minimumThroughput: 5, resetTimeout: 30_000 },
    health: { cacheTtlMs: 60_000, timeoutMs: 3000 },
    logger,
  });
}
