import { errorMessage } from '../errors.js';
import type { EachBatchPayloadLike, KafkaClientLike, KafkaConsumerLike } from './kafka-client.js';
import { withinDeadline } from './kafka-deadline.js';
import { PartitionTracker } from './kafka-partition.js';
import type { KafkaDelivery, KafkaTopicSubscription } from './kafka-subscription.js';

export interface GroupSettings {
  readonly partitionsConsumedConcurrently: number;
  readonly heartbeatMs: number;
  readonly sessionTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Most bytes one fetch takes from one partition. */
  readonly fetchMaxBytes: number;
  /** Delay before a consumer that lost a topic re-subscribes without it (ms). */
  readonly resubscribeDelayMs: number;
  /** Messages a local subscription may hold unfetched before the next batch of a partition waits. */
  readonly bufferLimit: number;
  /** Delay before a consumer that crashed without restarting by itself is replaced (ms). */
  readonly crashRestartMs: number;
}

/** What a group consumer asks of its adapter. */
export interface GroupHost {
  /** Partition assigner factories for the client's consumers, if any. */
  assigners(): Promise<unknown[] | undefined>;
  /**
   * Where a topic that starts from the latest message begins, for each partition the group has not
   * committed yet (`topic:partition` → offset): the end of the partition when the subscription began.
   * `missing` topics did not exist then: they start at their beginning.
   */
  latestStarts(group: string, topics: string[]): Promise<{ starts: Map<string, string>; missing: string[] }>;
  /** Partitions of `topics` the group has no committed offset for (`topic:partition`). */
  uncommitted(group: string, topics: string[]): Promise<Set<string>>;
}

/** Where the consumer stands in its group, as the client reports it. */
export type Membership =
  | { kind: 'stopped' }
  | { kind: 'joining'; since: number }
  | { kind: 'member'; since: number; partitions: number }
  | { kind: 'out'; since: number; reason: string };

/** A partition whose oldest unfinished message has waited since `since`. */
export interface WaitingPartition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly since: number;
}

interface Running {
  readonly consumer: KafkaConsumerLike;
  readonly topics: string;
  /** Resolved when this consumer stops: its batches give up what they hold. */
  readonly revoke: () => void;
  readonly revoked: Promise<void>;
  readonly joined: Promise<void>;
  /** Partitions handed to the bus in the current generation. */
  readonly trackers: Map<string, PartitionTracker>;
  commitTimer: NodeJS.Timeout | undefined;
}

/**
 * One client consumer per (adapter, group), subscribed to every topic the group's local
 * subscriptions want, dispatching each batch to them. Offsets are resolved in order up to the first
 * unacknowledged message, so a commit never skips an unfinished one. A batch whose partition may
 * have moved (heartbeat error, stale, consumer restarting) stops resolving at once and gives up the
 * rest: the new owner handles it, the old one commits nothing more for it. A change of topics
 * restarts the consumer; subscriptions made in one turn of the event loop share one start.
 */
export class KafkaGroupConsumer {
  private readonly sinks = new Map<string, KafkaTopicSubscription[]>();
  private readonly starts = new Map<string, string>();
  /** 'latest' topics that did not exist when subscribed: everything in them is new. */
  private readonly missing = new Set<string>();
  private running: Running | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private membership: Membership = { kind: 'stopped' };
  private spread = 0;

  constructor(
    private readonly kafka: KafkaClientLike,
    readonly group: string,
    private readonly settings: GroupSettings,
    private readonly host: GroupHost,
  ) {}

  /** Adds a subscription; resolves once a consumer subscribed to its topic is in the group (or tried long enough). */
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

  /** Subscriptions of this group, for backlog. */
  subscriptions(topic: string): KafkaTopicSubscription[] {
    return this.sinks.get(topic) ?? [];
  }

  /** Partitions waiting for an unfinished message, with the time the oldest one was handed out. */
  waitingPartitions(): WaitingPartition[] {
    const waiting: WaitingPartition[] = [];
    for (const tracker of this.running?.trackers.values() ?? []) {
      const oldest = tracker.oldest();
      if (oldest) waiting.push({ topic: tracker.topic, partition: tracker.partition, ...oldest });
    }
    return waiting;
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
    await new Promise<void>((resolve) => setImmediate(resolve));
    const topics = [...this.sinks.keys()].sort();
    if (this.running?.topics === topics.join('\u0000')) return this.running.joined;
    await this.stopConsumer();
    if (topics.length === 0) return;
    const fresh = topics.filter((topic) => this.startFrom(topic) === 'latest');
    const { starts, missing } = await this.host.latestStarts(this.group, fresh);
    for (const [place, offset] of starts) if (!this.starts.has(place)) this.starts.set(place, offset);
    for (const topic of missing) this.missing.add(topic);
    await this.startConsumer(topics);
  }

  private async startConsumer(topics: string[]): Promise<void> {
    const assigners = await this.host.assigners();
    const consumer = this.kafka.consumer({
      groupId: this.group,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatMs,
      // A fetch waits at most this long for messages: close and restarts wait for it.
      maxWaitTimeInMs: 1000,
      maxBytesPerPartition: this.settings.fetchMaxBytes,
      ...(assigners ? { partitionAssigners: assigners } : {}),
    });
    let revoke!: () => void;
    const revoked = new Promise<void>((resolve) => (revoke = resolve));
    let markJoined!: () => void;
    const joined = new Promise<void>((resolve) => (markJoined = resolve));
    // kafkajs takes commits only once run() has joined: the first join's commit waits for it.
    let started = false;
    let firstAssignment: Record<string, number[]> | undefined;
    const running: Running = {
      consumer,
      topics: topics.join('\u0000'),
      revoke,
      revoked,
      joined,
      trackers: new Map(),
      commitTimer: undefined,
    };
    const current = (): boolean => this.running === running;
    consumer.on?.('consumer.group_join', (event) => {
      if (!current()) return;
      const assignment =
        (event.payload as { memberAssignment?: Record<string, number[]> } | undefined)?.memberAssignment ?? {};
      const partitions = Object.values(assignment).reduce((sum, list) => sum + list.length, 0);
      this.revokeAll(running);
      this.membership = { kind: 'member', since: Date.now(), partitions };
      if (started) void this.commitStarts(consumer, assignment).finally(markJoined);
      else firstAssignment = assignment;
    });
    consumer.on?.('consumer.rebalancing', () => {
      if (!current()) return;
      // A consumer trying again after a crash stays reported with the crash's reason.
      if (this.membership.kind !== 'out') this.membership = { kind: 'joining', since: this.outSince() };
      this.revokeAll(running);
    });
    consumer.on?.('consumer.crash', (event) => {
      if (!current()) return;
      const payload = event.payload as { error?: unknown; restart?: boolean } | undefined;
      const reason = `consumer crashed: ${errorMessage(payload?.error)}`;
      this.membership = { kind: 'out', since: this.outSince(), reason };
      // kafkajs does not restart after an error it does not retry (the group refused the member):
      // a new consumer tries again, so that the group recovers once the cause is gone.
      if (payload?.restart === false) this.restartLater(running, reason);
    });
    if (this.membership.kind !== 'out') this.membership = { kind: 'joining', since: this.outSince() };
    this.running = running;
    try {
      await withinDeadline(consumer.connect(), this.settings.connectTimeoutMs, `consumer of group "${this.group}"`);
      const earliest = topics.filter((topic) => this.startFrom(topic) === 'earliest');
      const latest = topics.filter((topic) => this.startFrom(topic) === 'latest');
      // 'latest' topics start where `starts` says; reading from the beginning covers the gap until then.
      if (earliest.length + latest.length > 0)
        await consumer.subscribe({ topics: [...earliest, ...latest], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.handleBatch(payload, running),
      });
      started = true;
      if (firstAssignment) void this.commitStarts(consumer, firstAssignment).finally(markJoined);
    } catch (error) {
      this.running = undefined;
      this.membership = { kind: 'out', since: Date.now(), reason: errorMessage(error) };
      revoke();
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    // A client without membership events (or a group slow to form) does not hold subscribe() forever.
    if (!consumer.on) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      joined,
      revoked,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.settings.sessionTimeoutMs + this.settings.connectTimeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /** Commits where 'latest' partitions begin, so that the group keeps its place even if nothing is consumed. */
  private async commitStarts(consumer: KafkaConsumerLike, assignment: Record<string, number[]>): Promise<void> {
    const created = Object.keys(assignment).filter((topic) => this.missing.has(topic));
    if (created.length > 0) {
      for (const place of await this.host.uncommitted(this.group, created).catch(() => new Set<string>())) {
        if (!this.starts.has(place)) this.starts.set(place, '0');
      }
      for (const topic of created) this.missing.delete(topic);
    }
    const offsets = Object.entries(assignment).flatMap(([topic, partitions]) =>
      partitions.flatMap((partition) => {
        const offset = this.starts.get(`${topic}:${String(partition)}`);
        return offset === undefined ? [] : [{ topic, partition, offset }];
      }),
    );
    if (offsets.length === 0 || !consumer.commitOffsets) return;
    await consumer.commitOffsets(offsets).catch(() => undefined);
  }

  private async stopConsumer(): Promise<void> {
    const running = this.running;
    if (!running) return;
    clearTimeout(running.commitTimer);
    running.commitTimer = undefined;
    await this.commit(running);
    this.running = undefined;
    this.membership = { kind: 'stopped' };
    this.revokeAll(running);
    running.revoke();
    await running.consumer.disconnect().catch(() => undefined);
  }

  /**
   * Since when the consumer has been outside its group: kept through crashes, restarts and failed
   * joins, so that a consumer that never gets in is reported once `stallMs` has passed.
   */
  private outSince(): number {
    const membership = this.membership;
    return membership.kind === 'joining' || membership.kind === 'out' ? membership.since : Date.now();
  }

  /** Replaces a consumer that crashed for good, after `crashRestartMs`, unless it was stopped or replaced meanwhile. */
  private restartLater(running: Running | undefined, reason: string): void {
    const timer = setTimeout(() => {
      const run = this.chain.then(async () => {
        if (this.running !== running || this.sinks.size === 0) return;
        const since = this.outSince();
        await this.stopConsumer();
        this.membership = { kind: 'out', since, reason };
        try {
          await this.apply();
        } catch (error) {
          // Could not start again (brokers away): try later, still reported as outside the group.
          if (this.running === undefined) this.restartLater(undefined, errorMessage(error));
        }
      });
      this.chain = run.catch(() => undefined);
    }, this.settings.crashRestartMs);
    timer.unref();
  }

  private startFrom(topic: string): 'latest' | 'earliest' {
    return this.sinks.get(topic)?.[0]?.startFrom ?? 'latest';
  }

  private async handleBatch(payload: EachBatchPayloadLike, running: Running): Promise<void> {
    const { batch } = payload;
    const sinks = this.sinks.get(batch.topic)?.filter((sink) => sink.open) ?? [];
    if (sinks.length === 0 || this.running !== running) {
      // Nobody here reads the topic any more: resolve nothing (the group gets these again) and let the
      // consumer restart without it, instead of fetching the same messages in a tight loop.
      await Promise.race([running.revoked, new Promise((resolve) => setTimeout(resolve, 100).unref())]);
      return;
    }
    const place = `${batch.topic}:${String(batch.partition)}`;
    let tracker = running.trackers.get(place);
    if (!tracker) {
      tracker = new PartitionTracker(batch.topic, batch.partition, () => {
        this.scheduleCommit(running);
      });
      running.trackers.set(place, tracker);
    }
    // The loop below runs in one go: the batch cannot go stale or stop half-way through it.
    if (!payload.isRunning() || payload.isStale()) return;
    const start = this.starts.get(place);
    let messages = batch.messages;
    if (start !== undefined && messages[0] !== undefined && BigInt(messages[0].offset) < BigInt(start)) {
      // Messages before a 'latest' start are not this group's: skipped, and committable.
      messages = messages.filter((raw) => BigInt(raw.offset) >= BigInt(start));
      tracker.skipTo(start);
    }
    const handedAt = Date.now();
    const deliveries: KafkaDelivery[] = [];
    for (const raw of messages) {
      // One key, one local subscription: per-key order holds when several share the topic.
      const sink = sinks[sinks.length === 1 ? 0 : this.pick(raw.key, sinks.length)] as KafkaTopicSubscription;
      deliveries.push(sink.accept(batch.partition, raw, tracker, handedAt));
    }
    tracker.add(deliveries);
    // The fetch position moves on at once; the commit follows the acknowledgements (see PartitionTracker).
    const last = batch.messages[batch.messages.length - 1];
    if (last) payload.resolveOffset(String(last.offset));
    for (const sink of sinks) sink.notify();
    // Back-pressure: the next batch waits while the bus has not fetched most of this one.
    for (const sink of sinks) {
      while (sink.buffered > this.settings.bufferLimit) {
        if (this.running !== running || !payload.isRunning() || payload.isStale()) return;
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<'tick'>((resolve) => {
          timer = setTimeout(() => {
            resolve('tick');
          }, this.settings.heartbeatMs);
          timer.unref();
        });
        const outcome = await Promise.race([sink.whenBuffered(this.settings.bufferLimit), running.revoked, tick]);
        clearTimeout(timer);
        if (outcome === 'tick' && this.running === running) await payload.heartbeat();
      }
    }
  }

  private scheduleCommit(running: Running): void {
    if (running.commitTimer || this.running !== running) return;
    running.commitTimer = setTimeout(() => {
      running.commitTimer = undefined;
      void this.commit(running);
    }, 20);
    running.commitTimer.unref();
  }

  /** Commits what every partition has finished, in this generation only. */
  private async commit(running: Running): Promise<void> {
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    const trackers: PartitionTracker[] = [];
    for (const tracker of running.trackers.values()) {
      const offset = tracker.commitable();
      if (offset === undefined) continue;
      offsets.push({ topic: tracker.topic, partition: tracker.partition, offset });
      trackers.push(tracker);
    }
    if (offsets.length === 0 || !running.consumer.commitOffsets) return;
    try {
      await running.consumer.commitOffsets(offsets);
      offsets.forEach((entry, index) => trackers[index]?.markCommitted(entry.offset));
    } catch {
      // A rebalance or a broker away: the next acknowledgement (or the new owner) commits.
      this.scheduleCommit(running);
    }
  }

  /** A rebalance: every partition of the old generation may have moved. */
  private revokeAll(running: Running): void {
    for (const tracker of running.trackers.values()) tracker.revoke();
    running.trackers.clear();
  }

  private pick(key: Buffer | null | undefined, count: number): number {
    if (key == null) return this.spread++ % count;
    let hash = 0;
    for (const byte of key) hash = (hash * 31 + byte) | 0;
    return Math.abs(hash) % count;
  }
}
