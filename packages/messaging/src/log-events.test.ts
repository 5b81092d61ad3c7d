import { eventually, recordingLogger } from '@infra/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageBus } from './message-bus.js';

const buses: MessageBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close({ timeoutMs: 50 })));
});

describe('logger option', () => {
  it('logs a handler retry as warn and the dead letter as error, with the error', async () => {
    const logger = recordingLogger();
    const bus = new MessageBus({ lagIntervalMs: 0, retry: { maxAttempts: 2, initialDelayMs: 1 }, logger });
    buses.push(bus);
    await bus
      .subscribe('jobs', () => {
        throw new Error('handler broke');
      })
      .ready();
    await bus.publish('jobs', { n: 1 });
    await eventually(() => logger.lines.some((line) => line.level === 'error'));
    const mine = logger.lines.filter((line) => line.fields.topic === 'jobs');
    expect(mine.map((line) => [line.level, line.message, (line.fields.err as Error).message])).toEqual([
      ['warn', 'handler of "jobs" failed; retrying', 'handler broke'],
      ['error', 'message of "jobs" dead-lettered', 'handler broke'],
    ]);
    expect(mine[1]?.fields).toMatchObject({ deadLetterTopic: 'jobs.dlq', attempts: 2, reason: 'handler' });
  });

  it('refuses a logger without the four methods, naming the option', () => {
    expect(() => new MessageBus({ logger: { info() {}, warn() {}, error() {} } as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'logger' }),
    );
  });
});
