// Policies under test, built the same way for every section so that rows stay comparable.
import {
  ConsecutiveBreaker,
  CountBreaker,
  SamplingBreaker,
  circuitBreaker as cockatielBreaker,
  handleAll,
} from 'cockatiel';
import Opossum from 'opossum';
import { CircuitBreaker } from '../dist/index.js';

/** The function every policy runs: async, resolves immediately. */
export const work = async () => 1;

/** Settings shared by every breaker so that none of them can open during a run. */
export const RESET_MS = 30_000;
export const WINDOW_MS = 10_000;
/** Attempts of every retry policy, the first included. */
export const MAX_ATTEMPTS = 3;

/** @infra breakers, one per window kind. */
export const infraBreakers = {
  time: () => new CircuitBreaker('bench-time', { slidingWindow: { kind: 'time', durationMs: WINDOW_MS, buckets: 10 } }),
  /** Defaults: the last 100 calls. */
  default: () => new CircuitBreaker('bench-default'),
  count: () => new CircuitBreaker('bench-count', { slidingWindow: { kind: 'count', size: 100 } }),
  consecutive: () =>
    new CircuitBreaker('bench-consecutive', { slidingWindow: { kind: 'count', size: 100 }, consecutiveFailures: 5 }),
  /** The documented configuration, verbatim. */
  documented: () =>
    new CircuitBreaker('payment-service', { failureThreshold: 0.5, resetTimeout: 30000, timeout: 5000 }),
};

/** cockatiel breakers; `sampling` is the time-window counterpart of the @infra default. */
export const cockatielBreakers = {
  consecutive: () => cockatielBreaker(handleAll, { halfOpenAfter: RESET_MS, breaker: new ConsecutiveBreaker(5) }),
  sampling: () =>
    cockatielBreaker(handleAll, {
      halfOpenAfter: RESET_MS,
      breaker: new SamplingBreaker({ threshold: 0.5, duration: WINDOW_MS }),
    }),
  count: () =>
    cockatielBreaker(handleAll, {
      halfOpenAfter: RESET_MS,
      breaker: new CountBreaker({ threshold: 0.5, size: 100 }),
    }),
};

/**
 * opossum breakers around `action`. opossum binds the action at construction, keeps rolling
 * statistics on an interval timer and must be shut down; every one created is tracked here.
 */
const opossums = [];

export function opossum(action, options = {}) {
  const breaker = new Opossum(action, { resetTimeout: RESET_MS, ...options });
  opossums.push(breaker);
  return breaker;
}

export function shutdownOpossums() {
  for (const breaker of opossums.splice(0)) breaker.shutdown();
}
