import type { AdapterSubscription, Delivery, WireMessage } from '../adapter.js';
import type { KafkaHeaderValue, KafkaMessageLike } from './kafka-client.js';
import type { PartitionTracker } from './kafka-partition.js';

export const MESSAGE_ID_HEADER = 'message-id';

export interface KafkaDelivery extends Delivery {
  readonly offset: string | bigint;
  readonly partition: number;
  /** The local subscription it was handed to. */
  readonly sink: KafkaTopicSubscription;
  /** Its partition's commit tracking, told when it is acknowledged. */
  readonly tracker: PartitionTracker;
  /** When it was handed to the bus (ms since the epoch). */
  readonly handedAt: number;
  /** With the bus, acknowledged, or given up (closed, partition revoked: its offset is not committed). */
  state: 'out' | 'acked' | 'given-up';
}

type State = { kind: 'open' } | { kind: 'closed' };

/**
 * One local subscription of a group consumer, handed to the bus as a pull source: the group
 * consumer hands it the deliveries of each batch meant for it (`accept`, then `notify`) and their
 * partition's tracker hears of each acknowledgement; the bus pulls them with `fetch`.
 */
export class KafkaTopicSubscription implements AdapterSubscription<KafkaDelivery> {
  private buffer: KafkaDelivery[] = [];
  /** Handed over and neither acknowledged nor given up (buffered or with the bus). */
  private unsettled = 0;
  private wake: (() => void) | undefined;
  private roomWaiters: { limit: number; resolve: () => void }[] = [];
  private state: State = { kind: 'open' };

  /**
   * @param attempts deliveries so far of messages given up here and not acknowledged since, shared by
   *   the subscriptions of one group in this process (`topic:partition:offset`), so that a
   *   redelivery counts up
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

  /** Takes a message of its topic for the bus to fetch; the group consumer adds it to `tracker`. */
  accept(partition: number, raw: KafkaMessageLike, tracker: PartitionTracker, handedAt: number): KafkaDelivery {
    const earlier = this.attempts.size === 0 ? undefined : this.attempts.get(place(this.topic, partition, raw.offset));
    const delivery: KafkaDelivery = {
      message: toMessage(this.topic, partition, raw),
      deliveryCount: (earlier ?? 0) + 1,
      offset: raw.offset,
      partition,
      sink: this,
      tracker,
      handedAt,
      state: 'out',
    };
    this.unsettled += 1;
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
      if (delivery.state !== 'out') continue;
      delivery.state = 'given-up';
      this.unsettled -= 1;
      // Messages given up here and handled by another member are never acknowledged here: bound the record.
      if (this.attempts.size >= 10_000) this.attempts.clear();
      this.attempts.set(place(this.topic, delivery.partition, delivery.offset), delivery.deliveryCount);
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
      if (delivery.state !== 'out') continue;
      delivery.state = 'acked';
      this.unsettled -= 1;
      if (this.attempts.size > 0) this.attempts.delete(place(this.topic, delivery.partition, delivery.offset));
      delivery.tracker.acked(delivery);
    }
    return Promise.resolve();
  }

  /** Gives up what was not acknowledged (its offset is not committed: the group gets it again). */
  async close(unacked: readonly KafkaDelivery[]): Promise<void> {
    if (this.state.kind === 'closed') return;
    this.state = { kind: 'closed' };
    this.giveUp([...this.buffer, ...unacked]);
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
    return this.unsettled - this.buffer.length;
  }
}

function place(topic: string, partition: number, offset: string | bigint): string {
  return `${topic}:${String(partition)}:${String(offset)}`;
}

function toMessage(topic: string, partition: number, raw: KafkaMessageLike): WireMessage {
  const headers: Record<string, string> = {};
  let id: string | undefined;
  const add = (name: string, text: string | undefined): void => {
    if (text === undefined) return;
    if (name === MESSAGE_ID_HEADER) id = text;
    else headers[name] = text;
  };
  const given = raw.headers;
  if (given instanceof Map) {
    for (const [name, value] of given as ReadonlyMap<Buffer | string, Buffer | string>)
      add(name.toString(), value.toString());
  } else if (given) {
    const object = given as Record<string, KafkaHeaderValue>;
    for (const name of Object.keys(object)) add(name, headerText(object[name]));
  }
  return {
    id: id ?? `${topic}-${String(partition)}-${String(raw.offset)}`,
    topic,
    key: raw.key == null ? null : raw.key.toString(),
    headers,
    timestamp: Number(raw.timestamp),
    body: raw.value ?? new Uint8Array(),
  };
}

function headerText(value: KafkaHeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
