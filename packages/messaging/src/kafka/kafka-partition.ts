import type { KafkaDelivery } from './kafka-subscription.js';

/**
 * The messages of one partition handed to the bus in one group generation, and the offset the group
 * may commit: the first one not acknowledged yet. Acknowledgements arrive in any order (different
 * keys run concurrently); the commit never passes an unfinished message.
 */
export class PartitionTracker {
  /**
   * The batches handed out, oldest first, each in offset order; the first one from `position` on.
   * Kept per batch so that passing a message costs the same however many wait behind it.
   */
  private readonly batches: KafkaDelivery[][] = [];
  private position = 0;
  private next: bigint | undefined;
  private committed: bigint | undefined;
  private revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly onProgress: (tracker: PartitionTracker) => void,
  ) {}

  /** Deliveries of one batch, in offset order, handed to their subscriptions. */
  add(deliveries: KafkaDelivery[]): void {
    if (deliveries.length > 0) this.batches.push(deliveries);
  }

  /** A delivery of this partition was acknowledged: the commit position moves past what is finished. */
  acked(delivery: KafkaDelivery): void {
    if (this.revoked || this.head() !== delivery) return;
    let last = delivery;
    for (let head = this.head(); head?.state === 'acked'; head = this.head()) {
      last = head;
      this.position += 1;
    }
    this.next = BigInt(last.offset) + 1n;
    this.onProgress(this);
  }

  /** The oldest delivery not passed yet; drops the batches passed whole. */
  private head(): KafkaDelivery | undefined {
    for (let batch = this.batches[0]; batch; batch = this.batches[0]) {
      const delivery = batch[this.position];
      if (delivery) return delivery;
      this.batches.shift();
      this.position = 0;
    }
    return undefined;
  }

  /** Messages below `offset` were skipped (a 'latest' start): the group may commit up to it. */
  skipTo(offset: string): void {
    if (this.head()) return;
    this.next = BigInt(offset);
    this.onProgress(this);
  }

  /** The offset to commit, when it moved since the last commit. */
  commitable(): string | undefined {
    if (this.revoked || this.next === undefined || this.next === this.committed) return undefined;
    return String(this.next);
  }

  markCommitted(offset: string): void {
    this.committed = BigInt(offset);
  }

  /** When the oldest unfinished message arrived, if there is one. */
  oldest(): { offset: string; since: number } | undefined {
    const first = this.head();
    return first ? { offset: String(first.offset), since: first.handedAt } : undefined;
  }

  /** The partition may belong to another member now: commit nothing more, take back what the bus has not fetched. */
  revoke(): void {
    this.revoked = true;
    const bySink = new Map<KafkaDelivery['sink'], KafkaDelivery[]>();
    for (const [index, batch] of this.batches.entries()) {
      for (const delivery of index === 0 ? batch.slice(this.position) : batch) {
        if (delivery.state !== 'out') continue;
        const list = bySink.get(delivery.sink);
        if (list) list.push(delivery);
        else bySink.set(delivery.sink, [delivery]);
      }
    }
    for (const [sink, deliveries] of bySink) sink.giveUp(deliveries);
    this.batches.length = 0;
    this.position = 0;
  }
}
