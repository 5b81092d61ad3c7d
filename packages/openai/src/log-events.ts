import type { EventHub, Logger } from '@infra/core';
import type { OpenAIClientEvents } from './events.js';

/**
 * Writes what the protection around the SDK did: a retry (`warn`), a fallback (`warn`), a breaker
 * opening (`warn`) or recovering (`info`), and a call that failed for good (`error`).
 */
export function logOpenAIEvents(events: EventHub<OpenAIClientEvents>, logger: Logger): void {
  events.on('retry', ({ model, endpoint, attempt, delayMs, code, status }) => {
    logger.warn({ model, endpoint, attempt, delayMs, code, status }, `OpenAI ${endpoint} failed (${code}); retrying`);
  });
  events.on('fallback', ({ endpoint, from, to, code }) => {
    logger.warn({ endpoint, from, to, code }, `OpenAI ${endpoint}: falling back from ${from} to ${to} (${code})`);
  });
  events.on('breakerStateChange', ({ name, model, from, to }) => {
    logger[to === 'open' ? 'warn' : 'info']({ breaker: name, model, from, to }, `circuit "${name}" ${to}`);
  });
  events.on('error', ({ code, status, model, endpoint, latencyMs, message }) => {
    logger.error({ code, status, model, endpoint, latencyMs }, `OpenAI ${endpoint} failed: ${message}`);
  });
}
