import type { Logger } from '@infra/core';
import type { FastifyRequest } from 'fastify';
import { check } from '../errors.js';

/** The `logger` option of a plugin, documented once for all of them. */
export interface PluginLoggerOption {
  /**
   * Where the plugin's lines go, e.g. a pino child logger of the component. @default the request's
   * own `request.log` (Fastify's pino logger, bound to the request id)
   */
  logger?: Logger;
}

/** The logger of a request: the `logger` option when given (checked here), else `request.log`. */
export function logTarget(option: unknown): (request: FastifyRequest) => Logger {
  const logger = check.optionalLogger('logger', option);
  return logger === undefined ? (request) => request.log : () => logger;
}
