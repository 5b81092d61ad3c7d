import { CircuitBreaker } from './circuit-breaker.js';
import { contextFor, type ExecuteOptions, type Policy, type PolicyContext, type PolicyFn } from './policy.js';
import { RetryPolicy } from './retry.js';
import { TimeoutPolicy } from './timeout.js';

/** Several policies run as one. */
export class PolicyPipeline implements Policy {
  readonly policies: readonly Policy[];

  /** retry, breaker and an aggressive timeout, the common composition, run on one promise per call. */
  private readonly fused: { retry: RetryPolicy; breaker: CircuitBreaker; timeout: TimeoutPolicy } | undefined;

  constructor(policies: readonly Policy[]) {
    this.policies = policies;
    const [retry, breaker, timeout] = policies;
    this.fused =
      policies.length === 3 &&
      retry instanceof RetryPolicy &&
      breaker instanceof CircuitBreaker &&
      !breaker.hasTimeout &&
      timeout instanceof TimeoutPolicy &&
      timeout.strategy === 'aggressive'
        ? { retry, breaker, timeout }
        : undefined;
  }

  execute<T>(fn: PolicyFn<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, contextFor(options));
  }

  run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    const fused = this.fused;
    if (!fused) return this.step(0, fn, context);
    // The same as retry(breaker(timeout(fn))): the breaker runs the call under the timeout's
    // deadlines, and a failure hands over to the retry on the same promise. Later attempts take
    // the general path. PERFORMANCE.md gives what this saves; policies.test.ts compares both paths.
    const { retry, breaker, timeout } = fused;
    return retry.runFused(
      context,
      (first, onFailure) => breaker.runWith(fn, first, timeout.deadlines, onFailure),
      (again) => breaker.run((inner) => timeout.run(fn, inner), again),
    );
  }

  private step<T>(index: number, fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    const policy = this.policies[index];
    if (!policy) return Promise.resolve().then(() => fn(context));
    if (index === this.policies.length - 1) return policy.run(fn, context);
    return policy.run((inner) => this.step(index + 1, fn, inner), context);
  }
}

/**
 * Composes policies, outermost first: `wrap(retry, breaker, timeout, bulkhead)` runs
 * retry(breaker(timeout(bulkhead(fn)))): every attempt of the retry goes through the breaker
 * (so an open breaker stops the retries), the timeout bounds each attempt, and the bulkhead
 * limits what actually runs. Each policy passes the context (`signal`, `attempt`) inward.
 */
export function wrap(...policies: Policy[]): PolicyPipeline {
  return new PolicyPipeline(policies);
}
