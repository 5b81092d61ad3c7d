import type { KafkaDelivery } from './kafka-subscription.js';

/**
 * The messages of one partition handed to the bus in one group generation, and the offset the group
 * may commit: the first one not acknowledged yet. Acknowledgements arrive in any order (different
 * keys run concurrently); the commit never passes an unfinished message.
 */
export class PartitionTracker {
  /** Handed out and not passed by the commit position yet, in offset order. */
  private readonly outstanding: KafkaDelivery[] = [];
  private next: bigint | undefined;
  private committed: bigint | undefined;
  private revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly onProgress: (tracker: PartitionTracker) => void,
  ) {}

  /** Deliveries of one batch, in offset order, handed to their subscriptions. */
  add(deliveries: readonly KafkaDelivery[]): void {
    for (const delivery of deliveries) this.outstanding.push(delivery);
  }

  /** A delivery of this partition was acknowledged: the commit position moves past what is finished. */
  acked(delivery: KafkaDelivery): void {
    if (this.revoked || this.outstanding[0] !== delivery) return;
    let last = delivery;
    this.outstanding.shift();
    while (this.outstanding.length > 0 && this.outstanding[0].state === 'acked')
      last = this.outstanding.shift() ?? last;
    this.next = BigInt(last.offset) + 1n;
    this.onProgress(this);
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
    return first ? { offset: first.offset, since: first.handedAt } : undefined;
  }

  /** The partition may belong to another member now: commit nothing more, take back what the bus has not fetched. */
  revoke(): void {
    this.revoked = true;
    const bySink = new Map<KafkaDelivery['sink'], KafkaDelivery[]>();
    for (const delivery of this.outstanding) {
      if (delivery.state !== 'out') continue;
      const list = bySink.get(delivery.sink);
      if (list) list.push(delivery);
      else bySink.set(delivery.sink, [delivery]);
    }
    for (const [sink, deliveries] of bySink) sink.giveUp(deliveries);
    this.outstanding.length = 0;
  }
}
