import { whenReady, type RedisClient } from '@infra/core/redis';
import type { AdapterSubscription, Delivery, SubscribeSpec } from '../adapter.js';
import { parseEntry, type RawEntry } from './stream-entry.js';

export interface RedisDelivery extends Delivery {
  readonly entryId: string;
}

export interface RedisSubscriptionSettings {
  streamKey: string;
  blockMs: number;
  batchSize: number;
  claimIdleMs: number;
  /** Bound on waiting for the blocking connection to (re)connect before a read (ms). */
  connectTimeoutMs: number;
}

/** Creates a consumer group (`XGROUP CREATE … MKSTREAM`), tolerating one that exists. */
export type EnsureGroup = (streamKey: string, group: string, start: string) => Promise<void>;

type ReadReply = [Buffer, RawEntry[]][] | null;
type ClaimReply = [Buffer, RawEntry[], Buffer[]?];

/**
 * One consumer of a group on one stream. Reads with `XREADGROUP … BLOCK` on a connection of its
 * own (a blocked connection can do nothing else), acknowledges in batches with `XACK` on the
 * shared client, and takes over entries that another consumer left pending longer than
 * `claimIdleMs` with `XAUTOCLAIM`.
 */
export class RedisStreamSubscription implements AdapterSubscription<RedisDelivery> {
  private readonly group: string;
  private readonly consumer: string;
  private readingHistory = true;
  private historyCursor = '0';
  private nextClaimAt = 0;
  private claimCursor = '0-0';
  /** Entries delivered here and not acknowledged yet: a claim must not hand them to this consumer twice. */
  private readonly unfinished = new Set<string>();
  /** Id of the newest entry read with `>`: where a group lost with its data is created again. */
  private lastRead: string | undefined;
  private closed = false;
  private readonly topic: string;

  constructor(
    private readonly client: RedisClient,
    private readonly blocking: RedisClient,
    spec: SubscribeSpec,
    private readonly settings: RedisSubscriptionSettings,
    private readonly onClose: (subscription: RedisStreamSubscription) => void,
    private readonly ensureGroup: EnsureGroup,
  ) {
    this.group = spec.group;
    this.consumer = spec.consumer;
    this.topic = spec.topic;
  }

  async fetch(max: number, signal: AbortSignal): Promise<RedisDelivery[]> {
    if (this.closed || signal.aborted) return [];
    try {
      return await this.read(Math.min(max, this.settings.batchSize), signal);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- aborts while XREADGROUP blocks
      if (signal.aborted || this.closed) return [];
      if (error instanceof Error && error.message.startsWith('NOGROUP')) {
        await this.recreateGroup();
        return [];
      }
      throw error;
    }
  }

  private async read(count: number, signal: AbortSignal): Promise<RedisDelivery[]> {
    const now = Date.now();
    // History is read to the end before anything is claimed: claimed entries join this consumer's
    // pending list, and reading it afterwards would deliver them twice.
    if (!this.readingHistory && now >= this.nextClaimAt) {
      this.nextClaimAt = now + Math.max(50, Math.floor(this.settings.claimIdleMs / 2));
      const claimed = await this.claimIdle(count);
      if (claimed.length > 0) return claimed;
    }
    // No offline queue on this connection: while Redis is away a read fails within the bound
    // instead of hanging, and the bus reports the subscription as failing.
    if (this.blocking.status !== 'ready')
      await whenReady(this.blocking, this.settings.connectTimeoutMs, 'The Redis messaging adapter');
    const onAbort = (): void => {
      // The only way to end a blocked XREADGROUP early; the connection is ours and closing anyway.
      this.blocking.disconnect();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const blockMs = Math.max(1, Math.min(this.settings.blockMs, this.nextClaimAt - Date.now()));
      // History first: entries this consumer name received before a restart and never acknowledged.
      const from = this.readingHistory ? this.historyCursor : '>';
      const args: (string | number)[] = ['GROUP', this.group, this.consumer, 'COUNT', count];
      if (!this.readingHistory) args.push('BLOCK', blockMs);
      const reply = (await this.blocking.callBuffer(
        'XREADGROUP',
        ...args,
        'STREAMS',
        this.settings.streamKey,
        from,
      )) as ReadReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (!this.readingHistory) {
        const last = entries[entries.length - 1];
        if (last) this.lastRead = last[0].toString();
        return this.toDeliveries(entries, 1);
      }
      const last = entries[entries.length - 1];
      if (last) this.historyCursor = last[0].toString();
      else this.readingHistory = false;
      return this.toDeliveries(entries, 2);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The group is gone: Redis restarted without persistence, failed over, or was flushed. The group
   * is created again after the last entry read when that entry is still there (only the group was
   * lost), else from the start of the stream, which was recreated: every entry in it was published
   * after the loss and must be handled. At-least-once: nothing is skipped, a trimmed-away cursor
   * means earlier entries are handled again.
   */
  private async recreateGroup(): Promise<void> {
    let start = '0';
    if (this.lastRead !== undefined) {
      const kept = await this.client.xrange(this.settings.streamKey, this.lastRead, this.lastRead);
      if (kept.length > 0) start = this.lastRead;
    }
    await this.ensureGroup(this.settings.streamKey, this.group, start);
    // The new group has no pending entries: nothing of this consumer's history is left to read.
    this.readingHistory = false;
    this.claimCursor = '0-0';
  }

  /** One `XACK` for the deliveries (the bus batches them). */
  async ack(deliveries: readonly RedisDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const ids = deliveries.map((delivery) => delivery.entryId);
    try {
      await this.client.xack(this.settings.streamKey, this.group, ...ids);
    } finally {
      // Acknowledged, or left pending by a failed XACK for a later claim to redeliver. An entry stays
      // in `unfinished` until then: a claim that runs meanwhile must not hand it back to this consumer.
      for (const id of ids) this.unfinished.delete(id);
    }
  }

  async close(unacked: readonly RedisDelivery[]): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (unacked.length > 0) {
        // Left pending, but marked idle, so that another consumer's XAUTOCLAIM takes them at once.
        await this.client.call(
          'XCLAIM',
          this.settings.streamKey,
          this.group,
          this.consumer,
          0,
          ...unacked.map((d) => d.entryId),
          'IDLE',
          this.settings.claimIdleMs + 1,
          'JUSTID',
        );
      } else {
        const mine = (await this.client.call(
          'XPENDING',
          this.settings.streamKey,
          this.group,
          '-',
          '+',
          1,
          this.consumer,
        )) as unknown[];
        if (mine.length === 0)
          await this.client.call('XGROUP', 'DELCONSUMER', this.settings.streamKey, this.group, this.consumer);
      }
    } finally {
      this.blocking.disconnect();
      this.onClose(this);
    }
  }

  /** Disconnects at once, acknowledging nothing more (the adapter is closing). */
  abort(): void {
    this.closed = true;
    this.blocking.disconnect();
  }

  private async claimIdle(count: number): Promise<RedisDelivery[]> {
    const reply = (await this.client.callBuffer(
      'XAUTOCLAIM',
      this.settings.streamKey,
      this.group,
      this.consumer,
      this.settings.claimIdleMs,
      this.claimCursor,
      'COUNT',
      count,
    )) as ClaimReply;
    this.claimCursor = reply[0].toString();
    // An entry still being handled here went idle because its handler is slow, not because it was lost.
    const entries = reply[1].filter((entry) => !this.unfinished.has(entry[0].toString()));
    if (entries.length === 0) return [];
    const counts = await this.deliveryCounts(entries);
    return this.toDeliveries(entries, 2, counts);
  }

  private async deliveryCounts(entries: RawEntry[]): Promise<Map<string, number>> {
    const first = entries[0]?.[0].toString() ?? '-';
    const last = entries[entries.length - 1]?.[0].toString() ?? '+';
    const rows = (await this.client.call(
      'XPENDING',
      this.settings.streamKey,
      this.group,
      first,
      last,
      entries.length,
      this.consumer,
    )) as [string, string, number, number][];
    return new Map(rows.map(([id, , , deliveries]) => [id, deliveries]));
  }

  private toDeliveries(entries: RawEntry[], defaultCount: number, counts?: Map<string, number>): RedisDelivery[] {
    const deliveries: RedisDelivery[] = [];
    const stale: string[] = [];
    for (const entry of entries) {
      const entryId = entry[0].toString();
      const message = parseEntry(this.topic, entry);
      // Trimmed by MAXLEN while pending: nothing left to deliver.
      if (!message) stale.push(entryId);
      else {
        this.unfinished.add(entryId);
        deliveries.push({ message, deliveryCount: counts?.get(entryId) ?? defaultCount, entryId });
      }
    }
    if (stale.length > 0) void this.client.xack(this.settings.streamKey, this.group, ...stale).catch(() => undefined);
    return deliveries;
  }
}
