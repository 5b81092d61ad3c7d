import type { KafkaDelivery, KafkaTopicSubscription } from './kafka-subscription.js';

/**
 * The messages of one partition handed to the bus in one group generation, and the offset the group
 * may commit: the first one not acknowledged yet. Acknowledgements arrive in any order (different
 * keys run concurrently); the commit never passes an unfinished message.
 */
export class PartitionTracker {
  private readonly outstanding: { delivery: KafkaDelivery; sink: KafkaTopicSubscription; since: number }[] = [];
  private readonly acked = new Set<KafkaDelivery>();
  private next: bigint | undefined;
  private committed: bigint | undefined;
  private revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly onProgress: (tracker: PartitionTracker) => void,
  ) {}

  add(delivery: KafkaDelivery, sink: KafkaTopicSubscription): void {
    this.outstanding.push({ delivery, sink, since: Date.now() });
    void delivery.settled.then((acked) => {
      if (!acked || this.revoked) return;
      this.acked.add(delivery);
      this.advance();
    });
  }

  /** Messages below `offset` were skipped (a 'latest' start): the group may commit up to it. */
  skipTo(offset: string): void {
    if (this.outstanding.length > 0) return;
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
    const first = this.outstanding[0];
    return first ? { offset: first.delivery.offset, since: first.since } : undefined;
  }

  /** The partition may belong to another member now: commit nothing more, take back what the bus has not fetched. */
  revoke(): void {
    this.revoked = true;
    for (const { delivery, sink } of this.outstanding) sink.giveUp([delivery]);
    this.outstanding.length = 0;
  }

  private advance(): void {
    let moved = false;
    while (
      this.outstanding.length > 0 &&
      this.acked.has((this.outstanding[0] as { delivery: KafkaDelivery }).delivery)
    ) {
      const { delivery } = this.outstanding.shift() as { delivery: KafkaDelivery };
      this.acked.delete(delivery);
      this.next = BigInt(delivery.offset) + 1n;
      moved = true;
    }
    if (moved) this.onProgress(this);
  }
}
