/**
 * The logging calls the @infra packages make: pino's `(object, message)` signature, which a pino
 * logger (or a child of Fastify's `request.log` / `app.log`) satisfies as it is. Every package that
 * takes a `logger` option takes this type, and logs nothing when none is given.
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Whether `value` has the four methods of a {@link Logger}. */
export function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return LEVELS.every((level) => typeof candidate[level] === 'function');
}

function discard(): void {
  // A library writes nothing unless the application hands it a logger.
}

/** The logger of a package given none: it discards every line. */
export const silentLogger: Logger = Object.freeze({ debug: discard, info: discard, warn: discard, error: discard });
