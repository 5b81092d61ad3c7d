import type { AdapterSubscription, Delivery, WireMessage } from '../adapter.js';
import type { EachBatchPayloadLike, KafkaHeaderValue, KafkaMessageLike } from './kafka-client.js';

export const MESSAGE_ID_HEADER = 'message-id';

export interface KafkaDelivery extends Delivery {
  readonly offset: string;
  readonly partition: number;
  /** Resolves `true` when acknowledged, `false` when given up (closed, partition revoked). */
  readonly settled: Promise<boolean>;
  settle(acked: boolean): void;
}

/** What a batch needs from the group consumer that delivered it. */
export interface BatchContext {
  /** Resolves when the consumer that fetched the batch stops or restarts: the batch is given up. */
  readonly revoked: Promise<void>;
  /** How often a batch waiting for slow handlers heartbeats (ms). */
  readonly heartbeatMs: number;
}

/** A partition whose oldest unfinished message has waited for `sinceMs`. */
export interface WaitingPartition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly since: number;
}

type State = { kind: 'open' } | { kind: 'closed' };

/**
 * One topic of a group consumer, handed to the bus as a pull source. kafkajs pushes a batch per
 * partition (`eachBatch`); the batch's messages are buffered for `fetch`, and the batch waits for
 * their acknowledgements, resolving offsets in order up to the first unacknowledged one, so that a
 * commit never skips an unfinished message. A batch whose partition may have moved to another
 * member (heartbeat error, stale, consumer restarting) stops resolving at once and gives up the
 * rest of its messages: the new owner handles them, the old one commits nothing more for them.
 */
export class KafkaTopicSubscription implements AdapterSubscription<KafkaDelivery> {
  private buffer: KafkaDelivery[] = [];
  private readonly unsettled = new Set<KafkaDelivery>();
  /** Deliveries of a message before this one that were not acknowledged (`partition:offset`). */
  private readonly attempts = new Map<string, number>();
  private readonly waiting = new Map<number, WaitingPartition>();
  private wake: (() => void) | undefined;
  private state: State = { kind: 'open' };

  constructor(
    readonly topic: string,
    readonly startFrom: 'latest' | 'earliest',
    private readonly onClose: (subscription: KafkaTopicSubscription) => Promise<void>,
  ) {}

  /** Runs one kafkajs batch of this topic through the bus; resolves when it is done or given up. */
  async handleBatch(payload: EachBatchPayloadLike, context: BatchContext): Promise<void> {
    const { batch } = payload;
    const deliveries: KafkaDelivery[] = [];
    for (const raw of batch.messages) {
      if (this.state.kind === 'closed' || !payload.isRunning() || payload.isStale()) break;
      const delivery = this.toDelivery(batch.partition, raw);
      deliveries.push(delivery);
      this.unsettled.add(delivery);
      this.buffer.push(delivery);
    }
    this.notify();
    let failure: unknown;
    let done = 0;
    try {
      for (const delivery of deliveries) {
        const outcome = await this.waitFor(delivery, payload, context);
        if (outcome !== 'acked') break;
        payload.resolveOffset(delivery.offset);
        this.attempts.delete(`${String(delivery.partition)}:${delivery.offset}`);
        done += 1;
      }
    } catch (error) {
      failure = error;
    } finally {
      this.waiting.delete(batch.partition);
      if (done < deliveries.length) this.giveUp(deliveries.slice(done));
    }
    // Thrown heartbeat errors go back to kafkajs, which rejoins the group (or restarts the consumer).
    if (failure !== undefined) throw failure;
    if (done > 0 && payload.isRunning() && !payload.isStale()) await payload.commitOffsetsIfNecessary();
  }

  fetch(max: number, signal: AbortSignal): Promise<KafkaDelivery[]> {
    if (this.buffer.length > 0 || this.state.kind === 'closed' || signal.aborted)
      return Promise.resolve(this.buffer.splice(0, max));
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve(this.buffer.splice(0, max));
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  ack(deliveries: readonly KafkaDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      this.unsettled.delete(delivery);
      delivery.settle(true);
    }
    return Promise.resolve();
  }

  /** Gives up what was not acknowledged (its offset is not committed: the group gets it again). */
  async close(): Promise<void> {
    if (this.state.kind === 'closed') return;
    this.state = { kind: 'closed' };
    this.giveUp([...this.unsettled]);
    this.buffer = [];
    this.notify();
    await this.onClose(this);
  }

  get pending(): number {
    return this.unsettled.size;
  }

  /** Partitions waiting for an unfinished message, with the time the wait began. */
  waitingPartitions(): WaitingPartition[] {
    return [...this.waiting.values()];
  }

  private giveUp(deliveries: readonly KafkaDelivery[]): void {
    const dropped = new Set(deliveries);
    this.buffer = this.buffer.filter((delivery) => !dropped.has(delivery));
    for (const delivery of deliveries) {
      this.unsettled.delete(delivery);
      delivery.settle(false);
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * Waits for a delivery to settle, heartbeating so that a slow handler does not cost the
   * partition; `revoked` when the partition may belong to someone else now.
   */
  private async waitFor(
    delivery: KafkaDelivery,
    payload: EachBatchPayloadLike,
    context: BatchContext,
  ): Promise<'acked' | 'given-up' | 'revoked'> {
    let since: number | undefined;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => {
        timer = setTimeout(() => {
          resolve('tick');
        }, context.heartbeatMs);
        timer.unref();
      });
      const outcome = await Promise.race([
        delivery.settled,
        tick,
        context.revoked.then(() => 'revoked' as const),
      ]).finally(() => {
        clearTimeout(timer);
      });
      if (outcome === true) return 'acked';
      if (outcome === false) return 'given-up';
      if (outcome === 'revoked') return 'revoked';
      if (this.state.kind === 'closed' || !payload.isRunning() || payload.isStale()) return 'revoked';
      if (since === undefined) {
        since = Date.now() - context.heartbeatMs;
        this.waiting.set(delivery.partition, {
          topic: this.topic,
          partition: delivery.partition,
          offset: delivery.offset,
          since,
        });
      }
      await payload.heartbeat();
    }
  }

  private toDelivery(partition: number, raw: KafkaMessageLike): KafkaDelivery {
    const place = `${String(partition)}:${raw.offset}`;
    const deliveryCount = (this.attempts.get(place) ?? 0) + 1;
    // Messages given up here and handled by another member are never acknowledged here: bound the record.
    if (this.attempts.size >= 10_000) this.attempts.clear();
    this.attempts.set(place, deliveryCount);
    return toDelivery(this.topic, partition, raw, deliveryCount);
  }
}

function toDelivery(topic: string, partition: number, raw: KafkaMessageLike, deliveryCount: number): KafkaDelivery {
  const headers: Record<string, string> = {};
  let id = `${topic}-${String(partition)}-${raw.offset}`;
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    const text = headerText(value);
    if (text === undefined) continue;
    if (name === MESSAGE_ID_HEADER) id = text;
    else headers[name] = text;
  }
  const message: WireMessage = {
    id,
    topic,
    key: raw.key === null ? null : raw.key.toString(),
    headers,
    timestamp: Number(raw.timestamp),
    body: raw.value ?? new Uint8Array(),
  };
  let settle!: (acked: boolean) => void;
  const settled = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  return { message, deliveryCount, offset: raw.offset, partition, settled, settle };
}

function headerText(value: KafkaHeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
