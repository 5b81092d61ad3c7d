import { errorMessage } from '../errors.js';
import type { EachBatchPayloadLike, KafkaClientLike, KafkaConsumerLike } from './kafka-client.js';
import { withinDeadline } from './kafka-deadline.js';
import type { KafkaTopicSubscription } from './kafka-subscription.js';

export interface GroupSettings {
  readonly partitionsConsumedConcurrently: number;
  readonly heartbeatMs: number;
  readonly sessionTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Delay before a consumer that lost a topic re-subscribes without it (ms). */
  readonly resubscribeDelayMs: number;
}

/** Where the consumer stands in its group, as kafkajs reports it. */
export type Membership =
  | { kind: 'stopped' }
  | { kind: 'joining'; since: number }
  | { kind: 'member'; since: number; partitions: number }
  | { kind: 'out'; since: number; reason: string };

interface Running {
  readonly consumer: KafkaConsumerLike;
  readonly topics: string;
  /** Resolved when this consumer stops: its batches give up what they hold. */
  readonly revoke: () => void;
  readonly revoked: Promise<void>;
}

/**
 * One kafkajs consumer per (adapter, group), subscribed to every topic the group's local
 * subscriptions want, dispatching each batch to the subscription of its topic. One member per
 * group and process means the group's assignor only ever sees members that subscribe to the same
 * topics, so every partition is assigned to a member that reads it. A change of topics restarts the
 * consumer (subscriptions made in one turn of the event loop share one start).
 */
export class KafkaGroupConsumer {
  private readonly sinks = new Map<string, KafkaTopicSubscription[]>();
  private running: Running | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private membership: Membership = { kind: 'stopped' };

  constructor(
    private readonly kafka: KafkaClientLike,
    readonly group: string,
    private readonly settings: GroupSettings,
  ) {}

  /** Adds a subscription; resolves once a consumer subscribed to its topic runs. */
  add(subscription: KafkaTopicSubscription): Promise<void> {
    const list = this.sinks.get(subscription.topic);
    if (list) list.push(subscription);
    else this.sinks.set(subscription.topic, [subscription]);
    return this.reconcile();
  }

  /** Removes a subscription; the consumer re-subscribes without its topic shortly after (or stops). */
  remove(subscription: KafkaTopicSubscription): Promise<void> {
    const list = this.sinks.get(subscription.topic)?.filter((entry) => entry !== subscription) ?? [];
    if (list.length > 0) {
      this.sinks.set(subscription.topic, list);
      return Promise.resolve();
    }
    this.sinks.delete(subscription.topic);
    if (this.sinks.size === 0) return this.reconcile();
    // Subscriptions of a closing bus go one after the other: wait a moment instead of restarting for each.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reconcile().catch(() => undefined);
    }, this.settings.resubscribeDelayMs);
    this.timer.unref();
    return Promise.resolve();
  }

  get empty(): boolean {
    return this.sinks.size === 0;
  }

  get state(): Membership {
    return this.membership;
  }

  /** Subscriptions of this group, for backlog and health. */
  subscriptions(topic?: string): KafkaTopicSubscription[] {
    if (topic !== undefined) return this.sinks.get(topic) ?? [];
    return [...this.sinks.values()].flat();
  }

  /** Stops the consumer for good (the adapter closes). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.sinks.clear();
    await this.reconcile();
  }

  private reconcile(): Promise<void> {
    const run = this.chain.then(() => this.apply());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async apply(): Promise<void> {
    // Subscriptions made in the same turn of the event loop join this start.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const topics = [...this.sinks.keys()].sort();
    if (this.running?.topics === topics.join('\u0000')) return;
    await this.stopConsumer();
    if (topics.length === 0) return;
    await this.startConsumer(topics);
  }

  private async startConsumer(topics: string[]): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.group,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatMs,
    });
    let revoke!: () => void;
    const revoked = new Promise<void>((resolve) => (revoke = resolve));
    const running: Running = { consumer, topics: topics.join('\u0000'), revoke, revoked };
    const current = (): boolean => this.running === running;
    consumer.on?.('consumer.group_join', (event) => {
      if (!current()) return;
      const assignment = (event.payload as { memberAssignment?: Record<string, number[]> } | undefined)
        ?.memberAssignment;
      const partitions = Object.values(assignment ?? {}).reduce((sum, list) => sum + list.length, 0);
      this.membership = { kind: 'member', since: Date.now(), partitions };
    });
    consumer.on?.('consumer.rebalancing', () => {
      if (current()) this.membership = { kind: 'joining', since: Date.now() };
    });
    consumer.on?.('consumer.crash', (event) => {
      if (!current()) return;
      const error = (event.payload as { error?: unknown } | undefined)?.error;
      this.membership = { kind: 'out', since: Date.now(), reason: `consumer crashed: ${errorMessage(error)}` };
    });
    this.membership = { kind: 'joining', since: Date.now() };
    this.running = running;
    try {
      await withinDeadline(consumer.connect(), this.settings.connectTimeoutMs, `consumer of group "${this.group}"`);
      const earliest = topics.filter((topic) => this.startFrom(topic) === 'earliest');
      const latest = topics.filter((topic) => this.startFrom(topic) === 'latest');
      if (earliest.length > 0) await consumer.subscribe({ topics: earliest, fromBeginning: true });
      if (latest.length > 0) await consumer.subscribe({ topics: latest, fromBeginning: false });
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.dispatch(payload, running),
      });
    } catch (error) {
      this.running = undefined;
      this.membership = { kind: 'out', since: Date.now(), reason: errorMessage(error) };
      revoke();
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private async stopConsumer(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    this.membership = { kind: 'stopped' };
    running.revoke();
    await running.consumer.disconnect().catch(() => undefined);
  }

  private startFrom(topic: string): 'latest' | 'earliest' {
    return this.sinks.get(topic)?.[0]?.startFrom ?? 'latest';
  }

  private async dispatch(payload: EachBatchPayloadLike, running: Running): Promise<void> {
    const list = this.sinks.get(payload.batch.topic);
    if (!list || list.length === 0 || this.running !== running) {
      // Nobody here reads the topic any more: resolve nothing (the group gets these again) and let the
      // consumer restart without it, instead of fetching the same messages in a tight loop.
      await Promise.race([running.revoked, new Promise((resolve) => setTimeout(resolve, 100).unref())]);
      return;
    }
    // Several subscriptions of one topic in one group and process share its partitions.
    const target = list[payload.batch.partition % list.length] as KafkaTopicSubscription;
    await target.handleBatch(payload, { revoked: running.revoked, heartbeatMs: this.settings.heartbeatMs });
  }
}
