import { recordingLogger } from '@infra/test-utils';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { errorHandlerPlugin } from './error-handler-plugin.js';
import { loadSheddingPlugin } from './load-shedding-plugin.js';

describe('logger option of the plugins', () => {
  it('writes the error handler and load shedding lines to the given logger instead of request.log', async () => {
    const logger = recordingLogger();
    const app = Fastify({ logger: false });
    await app.register(errorHandlerPlugin, { production: true, logger });
    await app.register(loadSheddingPlugin, { gauges: [{ name: 'queue', value: () => 5, max: 1 }], logger });
    app.get('/boom', async () => {
      throw new Error('exploded');
    });
    expect((await app.inject('/boom')).statusCode).toBe(503);
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'request shed',
        fields: expect.objectContaining({ gauge: 'queue' }),
      }),
    ]);
    await app.close();

    const crashing = Fastify({ logger: false });
    await crashing.register(errorHandlerPlugin, { production: true, logger });
    crashing.get('/boom', async () => {
      throw new Error('exploded');
    });
    expect((await crashing.inject('/boom')).statusCode).toBe(500);
    expect(logger.lines[1]).toMatchObject({ level: 'error', message: 'request failed' });
    expect((logger.lines[1]?.fields.err as Error).message).toBe('exploded');
    await crashing.close();
  });

  it('refuses a logger without the four methods, naming the option', async () => {
    const app = Fastify({ logger: false });
    await expect(app.register(errorHandlerPlugin, { logger: { info() {} } as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'logger',
    });
    await app.close();
  });
});
