import Fastify from 'fastify';
import type { FastifyPluginCallback, FastifyPluginOptions } from 'fastify';

/**
 * What registering `plugin` with `options` (deliberately wrong, hence `unknown`) on a fresh
 * instance throws, `undefined` when it registers; the instance is closed either way.
 */
export async function registrationError<O extends FastifyPluginOptions>(
  plugin: FastifyPluginCallback<O>,
  options: unknown,
): Promise<unknown> {
  const instance = Fastify({ logger: false });
  try {
    await instance.register(plugin, options as O).ready();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await instance.close();
  }
}
