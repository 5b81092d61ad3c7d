import { describe, expect, it } from 'vitest';
import { resolveNatsOptions, type NatsAdapterOptions } from './nats-options.js';

function failure(options: unknown): unknown {
  try {
    resolveNatsOptions(options as NatsAdapterOptions);
  } catch (error) {
    return error;
  }
  return 'no error';
}

describe('NATS adapter options', () => {
  it('has defaults, and takes servers as a list or a comma-separated string', () => {
    expect(resolveNatsOptions({ servers: ['[::1]:4222', 'localhost'] }).servers).toEqual(['[::1]:4222', 'localhost']);
    const resolved = resolveNatsOptions({ servers: '127.0.0.1:4222, nats://other:4223' });
    expect(resolved).toMatchObject({
      servers: ['127.0.0.1:4222', 'nats://other:4223'],
      streamPrefix: 'MESSAGING_',
      subjectPrefix: 'messaging',
      retention: 'limits',
      storage: 'file',
      replicas: 1,
      ackWaitMs: 30_000,
      batchSize: 100,
      duplicateWindowMs: 120_000,
      maxReconnectAttempts: -1,
    });
  });

  it.each([
    [{}, 'NATS_SERVERS'],
    [{ servers: 42 }, 'servers'],
    [{ servers: ['nats://ok:4222', 'has space'] }, 'servers'],
    [{ servers: 'h:1', streamPrefix: 'a.b' }, 'streamPrefix'],
    [{ servers: 'h:1', subjectPrefix: 'a..b' }, 'subjectPrefix'],
    [{ servers: 'h:1', subjectPrefix: 'a.*' }, 'subjectPrefix'],
    [{ servers: 'h:1', retention: 'workqueue' }, 'retention'],
    [{ servers: 'h:1', storage: 'disk' }, 'storage'],
    [{ servers: 'h:1', replicas: 0 }, 'replicas'],
    [{ servers: 'h:1', maxMessages: -1 }, 'maxMessages'],
    [{ servers: 'h:1', maxMessages: 1.5 }, 'maxMessages'],
    [{ servers: 'h:1', maxAgeMs: 0.5 }, 'maxAgeMs'],
    [{ servers: 'h:1', ackWaitMs: 99 }, 'ackWaitMs'],
    [{ servers: 'h:1', batchSize: 0 }, 'batchSize'],
    [{ servers: 'h:1', fetchWaitMs: 50 }, 'fetchWaitMs'],
    [{ servers: 'h:1', publishBatchSize: 1.5 }, 'publishBatchSize'],
    [{ servers: 'h:1', maxReconnectAttempts: -2 }, 'maxReconnectAttempts'],
    [{ connection: {} }, 'connection'],
  ])('rejects %j naming %s', (options, option) => {
    const saved = process.env.NATS_SERVERS;
    delete process.env.NATS_SERVERS;
    try {
      expect(failure(options)).toMatchObject({ code: 'INVALID_OPTION', option });
    } finally {
      if (saved !== undefined) process.env.NATS_SERVERS = saved;
    }
  });
});
