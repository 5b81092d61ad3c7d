import { describeValue } from '@infra/core';
import { HealthError, check } from './errors.js';

/** Status of a check or of a whole report, as in the `application/health+json` draft. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

// Spellings seen in the wild: the draft's own, Spring/Kubernetes style, and ad-hoc ones.
const spellings: Readonly<Record<string, HealthStatus>> = {
  pass: 'pass',
  passed: 'pass',
  ok: 'pass',
  up: 'pass',
  healthy: 'pass',
  green: 'pass',
  success: 'pass',
  ready: 'pass',
  warn: 'warn',
  warning: 'warn',
  degraded: 'warn',
  yellow: 'warn',
  fail: 'fail',
  failed: 'fail',
  failure: 'fail',
  error: 'fail',
  down: 'fail',
  unhealthy: 'fail',
  critical: 'fail',
  red: 'fail',
  unavailable: 'fail',
};

/** The status spellings {@link normalizeStatus} accepts (case-insensitive), with what they map to. */
export const statusSpellings: Readonly<Record<string, HealthStatus>> = spellings;

/**
 * Maps a check's reported status to pass/warn/fail. Accepts the draft's values, common spellings
 * (`ok`, `healthy`, `up`, `degraded`, `unhealthy`, `error`, `down`, …, any case) and booleans.
 * @throws HealthError `INVALID_STATUS` naming the value when it is none of those.
 */
export function normalizeStatus(value: unknown, check?: string): HealthStatus {
  if (value === true) return 'pass';
  if (value === false) return 'fail';
  if (typeof value === 'string') {
    const status = spellings[value.trim().toLowerCase()];
    if (status !== undefined) return status;
  }
  const where = check === undefined ? 'Health check' : `Health check "${check}"`;
  throw new HealthError(
    'INVALID_STATUS',
    `${where} returned unknown status ${describeValue(value)}; expected pass/warn/fail or one of ${Object.keys(spellings).join(', ')}`,
  );
}

const STATUSES: readonly HealthStatus[] = ['pass', 'warn', 'fail'];

/** `value` when it is a status (`pass`, `warn`, `fail`); INVALID_OPTION naming it otherwise. */
export function checkStatus(option: string, value: unknown): HealthStatus {
  return check.oneOf(option, value, STATUSES);
}

/** The worse of two statuses (fail > warn > pass). */
export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  checkStatus('a', a);
  checkStatus('b', b);
  if (a === 'fail' || b === 'fail') return 'fail';
  if (a === 'warn' || b === 'warn') return 'warn';
  return 'pass';
}
