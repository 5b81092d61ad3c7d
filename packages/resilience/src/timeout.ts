import { check } from './errors.js';
import { DeadlineQueue, type TimeoutStrategy } from './deadline.js';
import { contextFor, type ExecuteOptions, type Policy, type PolicyContext, type PolicyFn } from './policy.js';

export type { TimeoutStrategy } from './deadline.js';

/** Bounds a call's duration; see {@link TimeoutStrategy} for how the call is ended. */
export class TimeoutPolicy implements Policy {
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
  /** The deadlines of this policy's calls, which `wrap()` may hand to a circuit breaker. @internal */
  readonly deadlines: DeadlineQueue;

  constructor(timeoutMs: number, strategy: TimeoutStrategy = 'aggressive') {
    this.timeoutMs = check.positive('timeoutMs', timeoutMs);
    this.strategy = check.oneOf('strategy', strategy, ['aggressive', 'cooperative']);
    this.deadlines = new DeadlineQueue(this.timeoutMs, 'Operation');
  }

  execute<T>(fn: PolicyFn<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, contextFor(options));
  }

  run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    return this.deadlines.run(fn, context, this.strategy);
  }
}

/** Creates a {@link TimeoutPolicy}: `timeout(5000)` or `timeout(5000, 'cooperative')`. */
export function timeout(timeoutMs: number, strategy?: TimeoutStrategy): TimeoutPolicy {
  return new TimeoutPolicy(timeoutMs, strategy);
}
