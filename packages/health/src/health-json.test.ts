import { describe, expect, it } from 'vitest';
import { aggregate } from './health-check-service.js';
import { httpStatusOf, toHealthJson } from './health-json.js';
import { worst } from './status.js';
import type { HealthReport } from './types.js';

const report: HealthReport = {
  status: 'warn',
  time: '2025-01-01T00:00:00.000Z',
  durationMs: 3,
  checks: [
    {
      name: 'postgres',
      status: 'pass',
      critical: true,
      tags: [],
      measurement: 'responseTime',
      observedValue: 2,
      observedUnit: 'ms',
      durationMs: 2,
      time: '2025-01-01T00:00:00.000Z',
      cached: false,
    },
    {
      name: 'mail',
      status: 'fail',
      critical: false,
      tags: ['external'],
      output: 'smtp refused',
      durationMs: 1,
      time: '2025-01-01T00:00:00.000Z',
      cached: true,
    },
  ],
};

describe('application/health+json helpers', () => {
  it('render a report with or without details', () => {
    expect(toHealthJson(report, false, { serviceId: 'challenges' })).toEqual({
      status: 'warn',
      serviceId: 'challenges',
    });
    expect(toHealthJson(report, true)).toEqual({
      status: 'warn',
      checks: {
        'postgres:responseTime': [
          { status: 'pass', time: report.time, critical: true, observedValue: 2, observedUnit: 'ms' },
        ],
        mail: [{ status: 'fail', time: report.time, critical: false, output: 'smtp refused', tags: ['external'] }],
      },
    });
    expect([httpStatusOf('pass'), httpStatusOf('warn'), httpStatusOf('fail')]).toEqual([200, 200, 503]);
    expect(worst('warn', 'pass')).toBe('warn');
    expect(aggregate(report.checks)).toBe('warn');
  });

  it('refuse what is not a status or a report, naming it, rather than answer 200', () => {
    expect(() => httpStatusOf('FAIL' as never)).toThrow(/Invalid option "status": expected one of .*, got "FAIL"/);
    expect(() => worst('pass', 'down' as never)).toThrow(/"b".*got "down"/);
    expect(() => toHealthJson({ ...report, status: 'ok' as never }, true)).toThrow(/"report.status".*got "ok"/);
    expect(() => toHealthJson({ ...report, checks: undefined as never }, true)).toThrow(/"report.checks"/);
    expect(() => toHealthJson(report, 'yes' as never)).toThrow(/"detailed".*got "yes"/);
    expect(() => aggregate({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'checks' }));
  });
});
