/** Structured logger: pino, bunyan-style and console-compatible (`(object, message)`). */
export interface MonitorLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

type Level = 'info' | 'warn' | 'error';

/**
 * A logger writing one JSON object per line (`level`, `time`, `msg`, then the fields) to a
 * stream, stderr by default: the format log shippers expect, with no dependency.
 */
export function jsonLogger(write: (line: string) => void = (line) => process.stderr.write(line)): MonitorLogger {
  const log = (level: Level) => (object: object, message?: string) => {
    write(`${safeStringify({ level, time: new Date().toISOString(), msg: message, ...object })}\n`);
  };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

function safeStringify(value: unknown): string {
  const seen = new WeakSet();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (item instanceof Error) return { name: item.name, message: item.message, stack: item.stack };
    if (typeof item === 'object' && item !== null) {
      if (seen.has(item)) return '[Circular]';
      seen.add(item);
    }
    return item;
  });
}
