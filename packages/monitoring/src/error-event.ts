import { jsonLogger, type MonitorLogger } from './logger.js';

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
  /** Where events are written. @default a JSON-lines logger on stderr */
  logger?: MonitorLogger;
  /** Include the (scrubbed) stack trace. @default true */
  stack?: boolean;
}

/** The default transport: one structured log line per event. */
export function logTransport(options: LogTransportOptions = {}): ErrorTransport {
  const logger = options.logger ?? jsonLogger();
  const withStack = options.stack ?? true;
  return {
    name: 'log',
    send(event) {
      const { exception: _exception, error, ...rest } = event;
      const shown = withStack ? error : { name: error.name, message: error.message, code: error.code };
      const method =
        event.level === 'warning' || event.level === 'info' ? (event.level === 'info' ? 'info' : 'warn') : 'error';
      logger[method](
        { ...rest, error: shown },
        `${event.domain ? `[${event.domain}] ` : ''}${error.name}: ${error.message}`,
      );
    },
  };
}
