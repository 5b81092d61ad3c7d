import { describe, expect, it, vi } from 'vitest';

// amqplib does not load here, as when it is not installed.
vi.mock('amqplib', () => {
  throw new Error('Cannot find package "amqplib"');
});

describe('amqplib as an optional peer', () => {
  it('is not loaded by importing the entry point, and is named in MISSING_PEER when a connection is needed', async () => {
    const { createRabbitMqAdapter } = await import('./index.js');
    expect(createRabbitMqAdapter).toBeTypeOf('function');
    await expect(createRabbitMqAdapter({ url: 'amqp://127.0.0.1:5672' })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('npm install amqplib'),
    });
  });

  it('checks its options before loading anything', async () => {
    const { createRabbitMqAdapter } = await import('./index.js');
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'http://localhost' }, 'url'],
      [{ url: 'amqp://h', prefetch: 0 }, 'prefetch'],
      [{ url: 'amqp://h', prefetch: 70_000 }, 'prefetch'],
      [{ url: 'amqp://h', queueType: 'stream' }, 'queueType'],
      [{ url: 'amqp://h', exchangePrefix: 'amq.x' }, 'exchangePrefix'],
      [{ url: 'amqp://h', queuePrefix: 3 }, 'queuePrefix'],
      [{ url: 'amqp://h', heartbeatMs: -1 }, 'heartbeatMs'],
      [{ url: 'amqp://h', connectTimeoutMs: 0 }, 'connectTimeoutMs'],
      [{ url: 'amqp://h', publishTimeoutMs: 1.5 }, 'publishTimeoutMs'],
      [{ url: 'amqp://h', commandTimeoutMs: 'x' }, 'commandTimeoutMs'],
      [{ url: 'amqp://h', reconnectDelayMs: 0 }, 'reconnectDelayMs'],
      [{ url: 'amqp://h', reconnectDelayMs: 500, maxReconnectDelayMs: 100 }, 'maxReconnectDelayMs'],
      [{ url: 'amqp://h', singleActiveConsumer: 'yes' }, 'singleActiveConsumer'],
      [{ connection: {} }, 'connection'],
      [{ url: 5 }, 'url'],
    ];
    for (const [options, option] of cases) {
      await expect(createRabbitMqAdapter(options as never), option).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        option,
      });
    }
  });

  it('names RABBITMQ_URL when neither it nor url is set', async () => {
    vi.stubEnv('RABBITMQ_URL', '');
    try {
      const { createRabbitMqAdapter } = await import('./index.js');
      await expect(createRabbitMqAdapter()).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'RABBITMQ_URL' });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
