import type { MessageAdapter } from './adapter.js';
import { errorMessage } from './errors.js';

export interface SubscriptionHealth {
  topic: string;
  group: string;
  pending: number;
  lag: number | null;
  inFlight: number;
}

/** An `application/health+json`-style check of a bus and its adapter. */
export interface MessagingHealth {
  /**
   * `fail`: the transport does not answer, or a subscription cannot fetch (or start); `warn`: the backlog is over the
   * threshold.
   */
  status: 'pass' | 'warn' | 'fail';
  componentId: string;
  componentType: 'component';
  /** Messages waiting (pending + lag) over all subscriptions. */
  observedValue: number;
  observedUnit: 'messages';
  time: string;
  output?: string;
  connected: boolean;
  subscriptions: SubscriptionHealth[];
}

export interface HealthTarget {
  topic: string;
  group: string;
  inFlight: number;
  /** Why the subscription is not consuming (it keeps trying), if it is not. */
  problem: string | undefined;
}

export interface HealthOptions {
  /** Backlog above which the check warns. */
  warnBacklog: number;
  /** Deadline of the probe, in ms. */
  timeoutMs: number;
}

/** Checks the adapter, then the backlog of each subscription; never throws. */
export async function adapterHealth(
  adapter: MessageAdapter,
  targets: readonly HealthTarget[],
  options: HealthOptions,
): Promise<MessagingHealth> {
  const time = new Date().toISOString();
  const base = {
    componentId: adapter.name,
    componentType: 'component' as const,
    observedUnit: 'messages' as const,
    time,
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      timer.unref();
    });
    await Promise.race([adapter.ping(), deadline]);
    // The transport answers: a subscription whose backlog cannot be read is a problem of its own.
    const problems: string[] = [];
    const subscriptions = await Promise.race([
      Promise.all(
        targets.map(async (target) => {
          const row = { topic: target.topic, group: target.group, inFlight: target.inFlight };
          try {
            return { ...row, ...(await adapter.backlog(target.topic, target.group)) };
          } catch (error) {
            problems.push(`${target.topic}/${target.group}: backlog unreadable: ${errorMessage(error)}`);
            return { ...row, pending: 0, lag: null };
          }
        }),
      ),
      deadline,
    ]);
    const observedValue = subscriptions.reduce((sum, s) => sum + s.pending + (s.lag ?? 0), 0);
    for (const target of targets) {
      if (target.problem !== undefined) problems.unshift(`${target.topic}/${target.group}: ${target.problem}`);
    }
    // What the transport sees going wrong with its consumers (outside their group, a stalled
    // partition) is a warning: the other partitions still flow.
    const transportProblems = adapter.problems?.() ?? [];
    const warn = observedValue > options.warnBacklog || transportProblems.length > 0;
    const output = [
      observedValue > options.warnBacklog
        ? `backlog of ${observedValue} messages is over ${options.warnBacklog}`
        : undefined,
      ...problems,
      ...transportProblems,
    ]
      .filter((line) => line !== undefined)
      .join('; ');
    return {
      ...base,
      // A consumer that cannot fetch loses nothing yet, but handles nothing either: the service is not ready.
      status: problems.length > 0 ? 'fail' : warn ? 'warn' : 'pass',
      observedValue,
      connected: true,
      subscriptions,
      ...(output ? { output } : {}),
    };
  } catch (error) {
    return {
      ...base,
      status: 'fail',
      observedValue: 0,
      connected: false,
      subscriptions: [],
      output: errorMessage(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
