import { register } from 'node:module';
import { describe, expect, it, vi } from 'vitest';

// The optional peers fail to load here, as they would when not installed. `ioredis` is loaded by
// @infra/core, whose loader recognises only a real "module not found": Node's resolver refuses it
// (a vi.mock factory cannot, vitest wraps its error). Each test file runs in a process of its own.
const hook = `
export async function resolve(specifier, context, next) {
  if (/^ioredis$|\\/node_modules\\/ioredis\\//.test(specifier)) {
    const error = new Error("Cannot find package 'ioredis' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
vi.mock('kafkajs', () => {
  throw new Error('Cannot find package "kafkajs"');
});
vi.mock('@infra/persistence', () => {
  throw new Error('Cannot find package "@infra/persistence"');
});

describe('optional peers', () => {
  it('are not loaded by importing any entry point', async () => {
    const root = await import('./index.js');
    const redis = await import('./redis/index.js');
    const kafka = await import('./kafka/index.js');
    const outbox = await import('./outbox/index.js');
    expect(root.messagePublisher).toBeInstanceOf(root.MessagePublisher);
    expect(redis.createRedisAdapter).toBeTypeOf('function');
    expect(kafka.createKafkaAdapter).toBeTypeOf('function');
    expect(outbox.OutboxRelay).toBeTypeOf('function');
  });

  it('fail with MISSING_PEER naming the package when a client must be created', async () => {
    const { createRedisAdapter } = await import('./redis/index.js');
    const { createKafkaAdapter } = await import('./kafka/index.js');
    const { TransactionalOutbox } = await import('./outbox/index.js');
    const { MessageBus } = await import('./index.js');
    await expect(createRedisAdapter({ connection: 'redis://127.0.0.1:6379' })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('npm install ioredis'),
    });
    await expect(createKafkaAdapter({ brokers: 'localhost:9092' })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('"kafkajs"'),
    });
    const bus = new MessageBus({ lagIntervalMs: 0 });
    const tx = { afterCommit: () => undefined } as never;
    await expect(new TransactionalOutbox({ bus }).publish('t', {}, { tx })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('@infra/persistence'),
    });
    await bus.close();
  });
});
