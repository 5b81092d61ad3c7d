import type { Delivery, WireMessage } from '../adapter.js';

/** A message waiting in, or delivered from, one group. */
export interface Entry {
  readonly seq: number;
  readonly message: WireMessage;
  deliveries: number;
  /** The consumer it is delivered to and not yet acknowledged by, if any. */
  owner: MemoryConsumer | undefined;
  /** When it was last delivered (ms since the epoch). */
  since: number;
}

/** Stands for one subscription of the group. */
export interface MemoryConsumer {
  readonly name: string;
  wake: (() => void) | undefined;
}

export interface MemoryDelivery extends Delivery {
  readonly entry: Entry;
  readonly consumer: MemoryConsumer;
}

/**
 * The state of one consumer group on one topic: a FIFO of undelivered entries, the entries
 * delivered but not acknowledged, and which consumer owns each key that has pending entries.
 * Key ownership is what keeps per-key order across the consumers of a group: an entry whose key
 * is owned by another consumer waits in the queue until that consumer has acknowledged.
 */
export class GroupState {
  private queue: (Entry | undefined)[] = [];
  private head = 0;
  private live = 0;
  /** Delivered and not acknowledged, in delivery order; each knows its owner and since when. */
  private readonly pending = new Set<Entry>();
  private readonly keyOwners = new Map<string, { consumer: MemoryConsumer; count: number }>();
  private readonly consumers = new Set<MemoryConsumer>();
  /** Entries dropped because the queue was full. */
  dropped = 0;

  constructor(private readonly maxLen: number) {}

  get queued(): number {
    return this.live;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  join(consumer: MemoryConsumer): void {
    this.consumers.add(consumer);
  }

  /** Removes a consumer and gives everything it had not acknowledged back to the group. */
  leave(consumer: MemoryConsumer): void {
    this.consumers.delete(consumer);
    this.release([...this.pending].filter((entry) => entry.owner === consumer));
  }

  push(entry: Entry): void {
    if (this.live >= this.maxLen) this.dropOldest();
    this.queue.push(entry);
    this.live += 1;
  }

  wakeAll(): void {
    for (const consumer of this.consumers) {
      const wake = consumer.wake;
      consumer.wake = undefined;
      wake?.();
    }
  }

  /** Takes up to `max` entries `consumer` may have now, in queue order. */
  take(consumer: MemoryConsumer, max: number, now: number): MemoryDelivery[] {
    const out: MemoryDelivery[] = [];
    const queue = this.queue;
    for (let i = this.head; i < queue.length && out.length < max; i++) {
      const entry = queue[i];
      if (entry === undefined) continue;
      const key = entry.message.key;
      let owner = key === null ? undefined : this.keyOwners.get(key);
      if (owner && owner.consumer !== consumer) continue;
      queue[i] = undefined;
      this.live -= 1;
      entry.deliveries += 1;
      entry.owner = consumer;
      entry.since = now;
      this.pending.add(entry);
      if (key !== null) {
        if (!owner) {
          owner = { consumer, count: 0 };
          this.keyOwners.set(key, owner);
        }
        owner.count += 1;
      }
      out.push({ message: entry.message, deliveryCount: entry.deliveries, entry, consumer });
    }
    this.compact();
    return out;
  }

  /** Forgets acknowledged entries; acks of a delivery that was since given to someone else are ignored. */
  ack(deliveries: readonly MemoryDelivery[]): void {
    let freedKey = false;
    for (const delivery of deliveries) {
      const entry = delivery.entry;
      if (entry.owner !== delivery.consumer || entry.deliveries !== delivery.deliveryCount) continue;
      entry.owner = undefined;
      this.pending.delete(entry);
      freedKey = this.releaseKey(delivery.entry) || freedKey;
    }
    // Entries skipped because their key was owned may now go to any consumer.
    if (freedKey && this.live > 0) this.wakeAll();
  }

  /**
   * Gives back entries pending longer than `idleMs` (their consumer hangs or died without
   * closing), with the entries of the same key that the same consumer holds behind them.
   */
  reclaimIdle(idleMs: number, now: number): number {
    const idle: Entry[] = [];
    const keys = new Map<string, MemoryConsumer>();
    for (const entry of this.pending) {
      if (now - entry.since < idleMs) continue;
      idle.push(entry);
      if (entry.message.key !== null) keys.set(entry.message.key, entry.owner as MemoryConsumer);
    }
    if (idle.length === 0) return 0;
    for (const entry of this.pending) {
      const key = entry.message.key;
      if (key !== null && keys.get(key) === entry.owner && !idle.includes(entry)) idle.push(entry);
    }
    this.release(idle);
    return idle.length;
  }

  /** Earliest time at which a pending entry can become idle, or undefined when none is pending. */
  oldestPendingSince(): number | undefined {
    // Entries are added to the set as they are delivered, so the first one is the oldest.
    for (const entry of this.pending) return entry.since;
    return undefined;
  }

  /** Puts entries back at the front of the queue, oldest first, so that per-key order holds. */
  private release(entries: Entry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) {
      entry.owner = undefined;
      this.pending.delete(entry);
      this.releaseKey(entry);
    }
    entries.sort((a, b) => a.seq - b.seq);
    const rest = this.queue.slice(this.head).filter((entry) => entry !== undefined);
    this.queue = [...entries, ...rest];
    this.head = 0;
    this.live = this.queue.length;
    this.wakeAll();
  }

  private releaseKey(entry: Entry): boolean {
    const key = entry.message.key;
    if (key === null) return false;
    const owner = this.keyOwners.get(key);
    if (!owner) return false;
    owner.count -= 1;
    if (owner.count > 0) return false;
    this.keyOwners.delete(key);
    return true;
  }

  private dropOldest(): void {
    const queue = this.queue;
    for (let i = this.head; i < queue.length; i++) {
      if (queue[i] === undefined) continue;
      queue[i] = undefined;
      this.live -= 1;
      this.dropped += 1;
      break;
    }
    this.compact();
  }

  private compact(): void {
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head] === undefined) this.head += 1;
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
  }
}
