import type { Logger } from '@infra/core';
import { optionalLogger, optionalObject } from './validate.js';
import { InvalidOptionError } from './errors.js';

export type ErrorLevel = 'fatal' | 'error' | 'warning' | 'info';

/** A captured error, scrubbed, as handed to every transport. */
export interface ErrorEvent {
  /** Unique id of this event (32 hex characters, usable as a Sentry event id). */
  id: string;
  /** ISO 8601 time of capture. */
  timestamp: string;
  level: ErrorLevel;
  /** Group key: events with the same fingerprint are one issue. */
  fingerprint: string;
  /** The parts the fingerprint was hashed from (sent to Sentry as its fingerprint). */
  fingerprintParts: string[];
  domain?: string;
  /** The error, scrubbed. */
  error: { name: string; message: string; code?: string; stack?: string };
  /** An Error carrying the scrubbed name, message, code and stack, for transports that want one. */
  exception: Error;
  user?: Record<string, unknown>;
  tags: Record<string, string>;
  context: Record<string, unknown>;
  /** Events of this fingerprint dropped by rate limiting since the last one reported. */
  suppressed: number;
  environment?: string;
  release?: string;
}

/** Where captured errors go. `send` may be async; it must not assume it is awaited. */
export interface ErrorTransport {
  readonly name: string;
  send(event: ErrorEvent): void | Promise<void>;
  /** Waits until sent events are delivered; resolves false when `timeoutMs` ran out. */
  flush?(timeoutMs: number): Promise<boolean>;
  /** Releases what the transport created. */
  close?(timeoutMs: number): Promise<void>;
}

/** Options of {@link logTransport}. */
export interface LogTransportOptions {
  /** Where events are written, e.g. a pino logger. */
  logger: Logger;
  /** Include the (scrubbed) stack trace. @default true */
  stack?: boolean;
}

/** The default transport: one structured log line per event. */
export function logTransport(options: LogTransportOptions): ErrorTransport {
  const o = optionalObject('options', options) as Partial<LogTransportOptions>;
  const logger = optionalLogger('logger', o.logger);
  if (logger === undefined)
    throw new InvalidOptionError('logger', undefined, 'a logger (e.g. pino) to write events to');
  const withStack = o.stack ?? true;
  return {
    name: 'log',
    send(event) {
      // The event's level is the line's level: kept as `severity`, since a `level` field would
      // overwrite the logger's own (pino writes both keys, and the last one wins when parsed).
      const { exception: _exception, error, level: severity, ...rest } = event;
      const shown = withStack ? error : { name: error.name, message: error.message, code: error.code };
      const method =
        event.level === 'warning' || event.level === 'info' ? (event.level === 'info' ? 'info' : 'warn') : 'error';
      logger[method](
        { ...rest, severity, error: shown },
        `${event.domain ? `[${event.domain}] ` : ''}${error.name}: ${error.message}`,
      );
    },
  };
}
