import type { AdapterSubscription, Delivery, WireMessage } from '../adapter.js';
import type { KafkaHeaderValue, KafkaMessageLike } from './kafka-client.js';

export const MESSAGE_ID_HEADER = 'message-id';

export interface KafkaDelivery extends Delivery {
  readonly offset: string;
  readonly partition: number;
  /** Resolves `true` when acknowledged, `false` when given up (closed, partition revoked). */
  readonly settled: Promise<boolean>;
  settle(acked: boolean): void;
}

type State = { kind: 'open' } | { kind: 'closed' };

/**
 * One local subscription of a group consumer, handed to the bus as a pull source: the group
 * consumer pushes the deliveries meant for it (`accept`) and waits for their acknowledgements;
 * the bus pulls them with `fetch`.
 */
export class KafkaTopicSubscription implements AdapterSubscription<KafkaDelivery> {
  private buffer: KafkaDelivery[] = [];
  private readonly unsettled = new Set<KafkaDelivery>();
  private wake: (() => void) | undefined;
  private roomWaiters: { limit: number; resolve: () => void }[] = [];
  private state: State = { kind: 'open' };

  /**
   * @param attempts deliveries so far of messages not acknowledged yet, shared by the subscriptions of
   *   one group in this process (`topic:partition:offset`), so that a redelivery counts up
   */
  constructor(
    readonly topic: string,
    readonly startFrom: 'latest' | 'earliest',
    private readonly attempts: Map<string, number>,
    private readonly onClose: (subscription: KafkaTopicSubscription) => Promise<void>,
  ) {}

  get open(): boolean {
    return this.state.kind === 'open';
  }

  /** Takes a message of its topic for the bus to fetch; the caller waits on `settled`. */
  accept(partition: number, raw: KafkaMessageLike): KafkaDelivery {
    const place = `${this.topic}:${String(partition)}:${raw.offset}`;
    const deliveryCount = (this.attempts.get(place) ?? 0) + 1;
    // Messages given up here and handled by another member are never acknowledged here: bound the record.
    if (this.attempts.size >= 10_000) this.attempts.clear();
    this.attempts.set(place, deliveryCount);
    const delivery = toDelivery(this.topic, partition, raw, deliveryCount);
    this.unsettled.add(delivery);
    this.buffer.push(delivery);
    return delivery;
  }

  /** Wakes a waiting `fetch` once a batch's messages are in. */
  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Takes back deliveries whose partition moved or whose consumer stopped: not fetched, not acknowledged. */
  giveUp(deliveries: readonly KafkaDelivery[]): void {
    const dropped = new Set(deliveries);
    this.buffer = this.buffer.filter((delivery) => !dropped.has(delivery));
    for (const delivery of deliveries) {
      this.unsettled.delete(delivery);
      delivery.settle(false);
    }
  }

  /** Resolves once at most `limit` messages wait to be fetched (back-pressure on the group consumer). */
  whenBuffered(limit: number): Promise<void> {
    if (this.buffer.length <= limit || this.state.kind === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ limit, resolve }));
  }

  fetch(max: number, signal: AbortSignal): Promise<KafkaDelivery[]> {
    if (this.buffer.length > 0 || this.state.kind === 'closed' || signal.aborted)
      return Promise.resolve(this.take(max));
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve(this.take(max));
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private take(max: number): KafkaDelivery[] {
    const taken = this.buffer.splice(0, max);
    if (this.roomWaiters.length > 0) {
      const ready = this.roomWaiters.filter((waiter) => this.buffer.length <= waiter.limit);
      this.roomWaiters = this.roomWaiters.filter((waiter) => this.buffer.length > waiter.limit);
      for (const waiter of ready) waiter.resolve();
    }
    return taken;
  }

  ack(deliveries: readonly KafkaDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      this.unsettled.delete(delivery);
      this.attempts.delete(`${this.topic}:${String(delivery.partition)}:${delivery.offset}`);
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
    for (const waiter of this.roomWaiters.splice(0)) waiter.resolve();
    this.notify();
    await this.onClose(this);
  }

  /** Handed over, not fetched by the bus yet. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Fetched by the bus, not acknowledged yet. */
  get pending(): number {
    return this.unsettled.size - this.buffer.length;
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
