import type { AdapterSubscription, Backlog, MessageAdapter, SubscribeSpec, WireMessage } from '../adapter.js';
import { MessagingError } from '../errors.js';
import { integer, plainObject } from '../validate.js';
import { GroupState, type MemoryConsumer, type MemoryDelivery } from './group-state.js';

export interface MemoryAdapterOptions {
  /**
   * A delivered message not acknowledged for this long goes back to its group, for another
   * consumer (its handler hangs, or its consumer died without closing).
   * @default 30_000
   */
  claimIdleMs?: number;
  /**
   * Most undelivered messages kept per group; past it the oldest is dropped (as Redis `MAXLEN`
   * trims a stream), so that a group nobody consumes any more cannot exhaust memory.
   * @default 100_000
   */
  maxLen?: number;
}

const capabilities: MessageAdapter['capabilities'] = {
  orderingPerKey: true,
  persistence: false,
  consumerGroups: true,
  replay: false,
};

/**
 * In-process transport: consumer groups, per-key ordering across a group's consumers,
 * redelivery of what a closed or hung consumer did not acknowledge. Nothing survives the process,
 * and a topic without a group drops what is published to it.
 */
export class MemoryAdapter implements MessageAdapter {
  readonly name: string = 'memory';
  readonly capabilities: MessageAdapter['capabilities'] = capabilities;
  private readonly claimIdleMs: number;
  private readonly maxLen: number;
  private readonly topics = new Map<string, Map<string, GroupState>>();
  private seq = 0;
  private closed = false;

  constructor(options: MemoryAdapterOptions = {}) {
    plainObject('options', options);
    this.claimIdleMs = integer('claimIdleMs', options.claimIdleMs ?? 30_000);
    this.maxLen = integer('maxLen', options.maxLen ?? 100_000);
  }

  publish(messages: readonly WireMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new MessagingError('CLOSED', 'The memory adapter is closed'));
    const touched = new Set<GroupState>();
    for (const message of messages) {
      const groups = this.topics.get(message.topic);
      if (!groups) continue;
      for (const group of groups.values()) {
        group.push({ seq: ++this.seq, message, deliveries: 0, owner: undefined, since: 0 });
        touched.add(group);
      }
    }
    for (const group of touched) group.wakeAll();
    return Promise.resolve();
  }

  subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    if (this.closed) return Promise.reject(new MessagingError('CLOSED', 'The memory adapter is closed'));
    let groups = this.topics.get(spec.topic);
    if (!groups) {
      groups = new Map();
      this.topics.set(spec.topic, groups);
    }
    let group = groups.get(spec.group);
    if (!group) {
      group = new GroupState(this.maxLen);
      groups.set(spec.group, group);
    }
    return Promise.resolve(new MemorySubscription(group, spec.consumer, this.claimIdleMs));
  }

  backlog(topic: string, group: string): Promise<Backlog> {
    const state = this.topics.get(topic)?.get(group);
    return Promise.resolve({ pending: state?.pendingCount ?? 0, lag: state?.queued ?? 0 });
  }

  ping(): Promise<void> {
    return this.closed
      ? Promise.reject(new MessagingError('CLOSED', 'The memory adapter is closed'))
      : Promise.resolve();
  }

  /** Drops every message and wakes every waiting consumer. Idempotent; nothing to wait for, so `options` is unused. */
  close(_options?: { timeoutMs?: number }): Promise<void> {
    this.closed = true;
    for (const groups of this.topics.values()) for (const group of groups.values()) group.wakeAll();
    this.topics.clear();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

class MemorySubscription implements AdapterSubscription<MemoryDelivery> {
  private readonly consumer: MemoryConsumer;
  private nextClaimCheck = 0;
  private closed = false;

  constructor(
    private readonly group: GroupState,
    name: string,
    private readonly claimIdleMs: number,
  ) {
    this.consumer = { name, wake: undefined };
    group.join(this.consumer);
  }

  async fetch(max: number, signal: AbortSignal): Promise<MemoryDelivery[]> {
    while (!this.closed && !signal.aborted) {
      const now = Date.now();
      if (now >= this.nextClaimCheck) {
        this.group.reclaimIdle(this.claimIdleMs, now);
        this.nextClaimCheck = now + Math.max(10, Math.floor(this.claimIdleMs / 4));
      }
      const taken = this.group.take(this.consumer, max, now);
      if (taken.length > 0) return taken;
      if (await this.waitForWork(signal)) this.nextClaimCheck = 0;
    }
    return [];
  }

  ack(deliveries: readonly MemoryDelivery[]): Promise<void> {
    this.group.ack(deliveries);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const wake = this.consumer.wake;
    this.consumer.wake = undefined;
    this.group.leave(this.consumer);
    wake?.();
    return Promise.resolve();
  }

  /**
   * Sleeps until a publish or an ack wakes the group, a pending entry may have gone idle (resolves
   * `true`), or `signal` aborts.
   */
  private waitForWork(signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const oldest = this.group.oldestPendingSince();
      const finish = (idle: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.consumer.wake = undefined;
        resolve(idle);
      };
      const done = (): void => {
        finish(false);
      };
      const timer =
        oldest === undefined
          ? undefined
          : setTimeout(
              () => {
                finish(true);
              },
              Math.max(10, oldest + this.claimIdleMs - Date.now()),
            );
      timer?.unref();
      this.consumer.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
