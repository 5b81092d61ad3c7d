import { contextFor, type ExecuteOptions, type Policy, type PolicyContext, type PolicyFn } from './policy.js';

/** Several policies run as one. */
export class PolicyPipeline implements Policy {
  readonly policies: readonly Policy[];

  constructor(policies: readonly Policy[]) {
    this.policies = policies;
  }

  execute<T>(fn: PolicyFn<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, contextFor(options));
  }

  run<T>(fn: PolicyFn<T>, context: PolicyContext): Promise<T> {
    return this.step(0, fn, context);
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
