import { describe, expect, it, vi } from 'vitest';

// Neither NATS package loads here, as when neither is installed.
vi.mock('@nats-io/transport-node', () => {
  throw new Error('Cannot find package "@nats-io/transport-node"');
});
vi.mock('@nats-io/jetstream', () => {
  throw new Error('Cannot find package "@nats-io/jetstream"');
});

describe('@nats-io/transport-node and @nats-io/jetstream as optional peers', () => {
  it('are not loaded by importing the entry point, and are named in MISSING_PEER when a connection is needed', async () => {
    const { createNatsAdapter } = await import('./index.js');
    expect(createNatsAdapter).toBeTypeOf('function');
    await expect(createNatsAdapter({ servers: '127.0.0.1:4222' })).rejects.toMatchObject({
      code: 'MISSING_PEER',
      message: expect.stringContaining('npm install @nats-io/transport-node'),
    });
  });

  it('checks the options before it loads anything', async () => {
    const { createNatsAdapter } = await import('./index.js');
    await expect(createNatsAdapter({ servers: [] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'servers',
    });
    await expect(createNatsAdapter({ servers: 'x:1', ackWaitMs: 0 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'ackWaitMs',
    });
  });
});
