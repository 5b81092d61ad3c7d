import type { AdapterSubscription, Delivery, WireMessage } from '../adapter.js';
import type { EachBatchPayloadLike, KafkaConsumerLike, KafkaHeaderValue, KafkaMessageLike } from './kafka-client.js';

export const MESSAGE_ID_HEADER = 'message-id';

export interface KafkaDelivery extends Delivery {
  readonly offset: string;
  readonly partition: number;
  /** Resolves `true` when acknowledged, `false` when given up (the subscription closed). */
  readonly settled: Promise<boolean>;
  settle(acked: boolean): void;
}

/**
 * Bridges kafkajs's push model (`eachBatch`) to the bus's pull model: a batch's messages are
 * buffered for `fetch`, and the batch waits for their acknowledgements, resolving offsets in order
 * up to the first unacknowledged one, so that a commit never skips an unfinished message.
 */
export class KafkaTopicSubscription implements AdapterSubscription<KafkaDelivery> {
  private buffer: KafkaDelivery[] = [];
  private readonly unsettled = new Set<KafkaDelivery>();
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly consumer: KafkaConsumerLike,
    private readonly heartbeatMs: number,
    private readonly onClose: () => void,
  ) {}

  /** The `eachBatch` handler given to the consumer's `run`. */
  readonly eachBatch = async (payload: EachBatchPayloadLike): Promise<void> => {
    const { batch } = payload;
    const deliveries: KafkaDelivery[] = [];
    for (const raw of batch.messages) {
      if (this.closed || !payload.isRunning() || payload.isStale()) break;
      const delivery = toDelivery(batch.topic, batch.partition, raw);
      deliveries.push(delivery);
      this.unsettled.add(delivery);
      this.buffer.push(delivery);
    }
    this.notify();
    for (const delivery of deliveries) {
      const acked = await this.waitFor(delivery, payload);
      if (!acked) break;
      payload.resolveOffset(delivery.offset);
    }
    await payload.commitOffsetsIfNecessary();
  };

  fetch(max: number, signal: AbortSignal): Promise<KafkaDelivery[]> {
    if (this.buffer.length > 0 || this.closed || signal.aborted) return Promise.resolve(this.buffer.splice(0, max));
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

  /** Gives up what was not acknowledged (its offset is not committed: the group gets it again) and leaves the group. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const delivery of this.unsettled) delivery.settle(false);
    this.unsettled.clear();
    this.buffer = [];
    this.notify();
    try {
      await this.consumer.disconnect();
    } finally {
      this.onClose();
    }
  }

  get pending(): number {
    return this.unsettled.size;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits for a delivery to settle, heartbeating so that a slow handler does not cost the partition. */
  private async waitFor(delivery: KafkaDelivery, payload: EachBatchPayloadLike): Promise<boolean> {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => {
        timer = setTimeout(() => {
          resolve('tick');
        }, this.heartbeatMs);
        timer.unref();
      });
      const outcome = await Promise.race([delivery.settled, tick]);
      clearTimeout(timer);
      if (outcome !== 'tick') return outcome;
      if (this.closed || !payload.isRunning()) return false;
      await payload.heartbeat().catch(() => undefined);
    }
  }
}

function toDelivery(topic: string, partition: number, raw: KafkaMessageLike): KafkaDelivery {
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
  return { message, deliveryCount: 1, offset: raw.offset, partition, settled, settle };
}

function headerText(value: KafkaHeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
