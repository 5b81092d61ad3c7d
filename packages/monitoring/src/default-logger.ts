import { createRequire } from 'node:module';
import { silentLogger, type Logger } from '@infra/core';

type Pino = (options: { name: string }, stream: NodeJS.WritableStream) => Logger;

/**
 * The logger of the module-level default instances (`errorMonitor`, `healthCheckScheduler`…),
 * which the documented usage runs without passing one: pino on stderr when the application has
 * pino installed, loaded on the first line logged (importing the package loads nothing), else
 * silent. Instances you construct log only through the logger you give them.
 */
export function defaultLogger(name: string): Logger {
  let target: Logger | undefined;
  const resolve = (): Logger => {
    if (target !== undefined) return target;
    try {
      // pino is CommonJS and an optional peer: a synchronous require keeps the first line in order.
      const pino = createRequire(import.meta.url)('pino') as Pino;
      target = pino({ name }, process.stderr);
    } catch {
      target = silentLogger;
    }
    return target;
  };
  return {
    debug: (object, message) => {
      resolve().debug(object, message);
    },
    info: (object, message) => {
      resolve().info(object, message);
    },
    warn: (object, message) => {
      resolve().warn(object, message);
    },
    error: (object, message) => {
      resolve().error(object, message);
    },
  };
}
