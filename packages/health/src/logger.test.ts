import { recordingLogger } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { GracefulShutdown, HealthCheckService } from './index.js';

describe('logger option', () => {
  it("logs a check's first failure and each later change of status, not the repeats", async () => {
    const logger = recordingLogger();
    const service = new HealthCheckService({ cacheTtlMs: 0, logger });
    let up = false;
    service.register(
      'database',
      async () => ({ status: up ? 'pass' : 'fail', output: up ? undefined : 'refused' }),
      true,
    );
    await service.run();
    await service.run();
    up = true;
    await service.run();
    await service.run();
    expect(logger.lines.map((line) => [line.level, line.message, line.fields.from, line.fields.to])).toEqual([
      ['warn', 'health check "database" fail: refused', null, 'fail'],
      ['info', 'health check "database" pass', 'fail', 'pass'],
    ]);
  });

  it('refuses a logger without the four methods, naming the option', () => {
    const half = { info() {}, warn() {} } as never;
    expect(() => new HealthCheckService({ logger: half })).toThrow(expect.objectContaining({ option: 'logger' }));
    expect(() => new GracefulShutdown({ logger: half })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'logger' }),
    );
  });
});
