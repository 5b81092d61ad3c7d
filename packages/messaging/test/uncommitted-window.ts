import type { ConsumerRecord } from '../test-fixtures/kafka-recording.mjs';

interface Handed {
  /** The lowest offset handed out in this generation: where the partition stood committed. */
  first: bigint;
  /** One past the highest offset handed out. */
  next: bigint;
  /** The last commit the broker accepted in this generation (the next offset to read). */
  committed: bigint | undefined;
}

/**
 * The uncommitted window of a consumer group run: for each member and generation, the messages
 * handed to the bus past the last commit the broker accepted. When the generation ends (a
 * rebalance, the member killed), those come back to whoever owns the partition next, so the
 * duplicates of a run are at most `total`.
 */
export class UncommittedWindow {
  total = 0;
  private readonly open = new Map<string, Handed>();

  record(record: ConsumerRecord): void {
    if (record.kind === 'generation') {
      this.settle(record.member);
      return;
    }
    const place = `${record.member}|${record.topic}:${String(record.partition)}`;
    const offset = BigInt(record.offset);
    const entry = this.open.get(place);
    if (record.kind === 'handed') {
      if (!entry) this.open.set(place, { first: offset, next: offset + 1n, committed: undefined });
      else {
        // A batch of the old generation may finish handing out after the rebalance: the lowest offset
        // is where the new generation started.
        if (offset < entry.first) entry.first = offset;
        if (offset + 1n > entry.next) entry.next = offset + 1n;
      }
    } else if (entry && (entry.committed === undefined || offset > entry.committed)) {
      entry.committed = offset;
    }
  }

  /** Ends the generation of `member`: what it handed out past its last commit counts. */
  settle(member: string): void {
    for (const [place, entry] of this.open) {
      if (!place.startsWith(`${member}|`)) continue;
      const from = entry.committed !== undefined && entry.committed > entry.first ? entry.committed : entry.first;
      if (entry.next > from) this.total += Number(entry.next - from);
      this.open.delete(place);
    }
  }
}
