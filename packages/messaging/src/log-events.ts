import { EventHub, isLogger, type Logger } from '@infra/core';
import { InvalidOptionError } from './errors.js';
import type { MessagingEvents } from './events.js';

/** The `logger` option: `undefined`, or a pino-compatible {@link Logger}. */
export function loggerOption(value: unknown): Logger | undefined {
  if (value === undefined || isLogger(value)) return value;
  throw new InvalidOptionError('logger', value, 'a logger with debug, info, warn and error methods (a pino logger)');
}

/**
 * Writes the bus's failures to `logger`: a handler retried (`warn`), a message dead-lettered
 * (`error`), a failure the bus recovered from (`warn`); the error under `err`.
 */
export function logMessagingEvents(events: EventHub<MessagingEvents>, logger: Logger): void {
  events.on('retried', ({ topic, group, id, attempt, delayMs, error }) => {
    logger.warn(
      { topic, group, messageId: id, attempt, delayMs, err: error },
      `handler of "${topic}" failed; retrying`,
    );
  });
  events.on('deadLettered', ({ topic, group, id, deadLetterTopic, attempts, reason, error }) => {
    logger.error(
      { topic, group, messageId: id, deadLetterTopic, attempts, reason, err: error },
      deadLetterTopic === null ? `message of "${topic}" dropped` : `message of "${topic}" dead-lettered`,
    );
  });
  events.on('error', ({ operation, topic, group, error }) => {
    logger.warn({ operation, topic, group, err: error }, `messaging ${operation} failed; recovering`);
  });
}
