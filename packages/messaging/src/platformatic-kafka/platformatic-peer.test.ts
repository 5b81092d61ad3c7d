import { describe, expect, it, vi } from 'vitest';

// Neither Kafka client loads here, as when neither is installed.
vi.mock('@platformatic/kafka', () => {
  throw new Error('Cannot find package "@platformatic/kafka"');
});
vi.mock('kafkajs', () => {
  throw new Error('Cannot find package "kafkajs"');
});

describe('@platformatic/kafka as an optional peer', () => {
  it('is not loaded by importing the entry point, and is named in MISSING_PEER when a client is needed', async () => {
    const { createPlatformaticKafkaAdapter } = await import('./index.js');
    expect(createPlatformaticKafkaAdapter).toBeTypeOf('function');
    await expect(createPlatformaticKafkaAdapter({ brokers: '127.0.0.1:9092' })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('npm install @platformatic/kafka'),
    });
  });
});
