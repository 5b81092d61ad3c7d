import type { AdapterSubscription, Delivery, SubscribeSpec, WireMessage } from '../adapter.js';
import type { PostgresDb } from './postgres-db.js';
import type { PostgresStatements } from './postgres-sql.js';

export interface PostgresDelivery extends Delivery {
  /** Position of the message in the messages table. */
  readonly seq: string;
  /** Token of this delivery: only its holder's acknowledgement counts. */
  readonly lease: string;
}

export interface PostgresSubscriptionSettings {
  queueId: number;
  batchSize: number;
  pollIntervalMs: number;
  visibilityTimeoutMs: number;
  /** Told when a take came back full: the queue has a backlog. */
  onBacklog: () => void;
}

interface TakenRow {
  seq: string;
  delivery_count: number;
  lease: string;
  message_id: string;
  key: string | null;
  headers: Record<string, string>;
  body: string | null;
  body_bin: Buffer | null;
  published_at: number;
}

/** The subscription's lifecycle. */
type SubscriptionState = { state: 'open'; heartbeat: NodeJS.Timeout } | { state: 'closed' };

/**
 * One consumer of a queue (a topic in a group). Takes visible deliveries with
 * `FOR UPDATE SKIP LOCKED`, waits for a NOTIFY (or the fallback poll, or the moment the next
 * delivery in flight comes back) when there are none, and keeps the deliveries it holds from
 * coming back while it lives by pushing their visibility ahead (a heartbeat every third of the
 * visibility timeout): only a consumer that died or stopped leaves them to the group.
 */
export class PostgresSubscription implements AdapterSubscription<PostgresDelivery> {
  readonly topic: string;
  readonly group: string;
  readonly queueId: number;
  /** Deliveries handed to the bus and not acknowledged, by seq. */
  private readonly held = new Map<string, PostgresDelivery>();
  private current: SubscriptionState;
  /** Bumped by every wake-up, so that one arriving while a take runs is not missed. */
  private generation = 0;
  private waiter: (() => void) | undefined;
  private heartbeatProblem: string | undefined;

  constructor(
    private readonly db: PostgresDb,
    private readonly sql: PostgresStatements,
    spec: SubscribeSpec,
    private readonly settings: PostgresSubscriptionSettings,
    private readonly onClose: (subscription: PostgresSubscription) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.topic = spec.topic;
    this.group = spec.group;
    this.queueId = settings.queueId;
    const heartbeat = setInterval(
      () => {
        void this.extend();
      },
      Math.max(20, Math.floor(settings.visibilityTimeoutMs / 3)),
    );
    heartbeat.unref();
    this.current = { state: 'open', heartbeat };
  }

  /** Something may be waiting: a NOTIFY named this queue, or the listener reconnected. */
  wake(): void {
    this.generation += 1;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  problem(): string | undefined {
    return this.heartbeatProblem;
  }

  async fetch(max: number, signal: AbortSignal): Promise<PostgresDelivery[]> {
    while (this.current.state === 'open' && !signal.aborted) {
      const generation = this.generation;
      // Not aborted by `signal`: rows taken must reach the bus, which handles (or hands back) them.
      const limit = Math.min(max, this.settings.batchSize);
      const { rows } = await this.db.query<TakenRow>(this.sql.take, [
        this.queueId,
        limit,
        this.settings.visibilityTimeoutMs,
      ]);
      if (rows.length === this.settings.batchSize) this.settings.onBacklog();
      if (rows.length > 0) return this.toDeliveries(rows);
      if (generation !== this.generation) continue;
      const { rows: next } = await this.db.query<{ ms: number | null }>(this.sql.nextVisible, [this.queueId]);
      if (generation !== this.generation) continue;
      const nextMs = next[0]?.ms;
      const waitMs =
        nextMs === null || nextMs === undefined
          ? this.settings.pollIntervalMs
          : Math.min(this.settings.pollIntervalMs, Math.max(5, Math.ceil(nextMs)));
      await this.waitForWake(waitMs, signal);
    }
    return [];
  }

  async ack(deliveries: readonly PostgresDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    for (const delivery of deliveries) this.held.delete(delivery.seq);
    await this.db.query(this.sql.ack, [
      this.queueId,
      deliveries.map((delivery) => delivery.seq),
      deliveries.map((delivery) => delivery.lease),
    ]);
    // The next message of an acknowledged key may be taken now: this consumer need not wait for the
    // NOTIFY to come back through the listening connection.
    if (deliveries.some((delivery) => delivery.message.key !== null)) this.wake();
  }

  /** The delivery behind a message the bus handed to a handler, while this consumer holds it. */
  find(message: { id: string; headers: object }): PostgresDelivery | undefined {
    let byId: PostgresDelivery | undefined;
    for (const delivery of this.held.values()) {
      // The bus passes the wire message's headers object to the handler as it is: that tells two
      // deliveries of one message id apart (an outbox relay may send a message twice).
      if (delivery.message.headers === message.headers) return delivery;
      if (delivery.message.id === message.id) byId ??= delivery;
    }
    return byId;
  }

  /** Hands `unacked` back to the group at once (they come back with a higher delivery count). */
  async close(unacked: readonly PostgresDelivery[]): Promise<void> {
    if (!this.stop()) return;
    try {
      if (unacked.length > 0) {
        await this.db.query(this.sql.release, [
          this.queueId,
          unacked.map((delivery) => delivery.seq),
          unacked.map((delivery) => delivery.lease),
        ]);
      }
    } finally {
      this.held.clear();
      this.onClose(this);
    }
  }

  /** Stops at once (the adapter is closing): what is held comes back after the visibility timeout. */
  abort(): void {
    this.stop();
    this.held.clear();
  }

  private stop(): boolean {
    const current = this.current;
    if (current.state === 'closed') return false;
    clearInterval(current.heartbeat);
    this.current = { state: 'closed' };
    this.wake();
    return true;
  }

  private waitForWake(waitMs: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.waiter === done) this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
      this.waiter = done;
    });
  }

  private async extend(): Promise<void> {
    if (this.held.size === 0 || this.current.state !== 'open') return;
    const deliveries = [...this.held.values()];
    try {
      await this.db.query(this.sql.extend, [
        this.queueId,
        deliveries.map((delivery) => delivery.seq),
        deliveries.map((delivery) => delivery.lease),
        this.settings.visibilityTimeoutMs,
      ]);
      this.heartbeatProblem = undefined;
    } catch (error) {
      this.heartbeatProblem = `${this.topic}/${this.group}: cannot extend the visibility of its deliveries`;
      this.onError(error);
    }
  }

  private toDeliveries(rows: TakenRow[]): PostgresDelivery[] {
    const deliveries: PostgresDelivery[] = [];
    for (const row of rows) {
      const message: WireMessage = {
        id: row.message_id,
        topic: this.topic,
        key: row.key,
        headers: row.headers,
        timestamp: row.published_at,
        body: row.body ?? row.body_bin ?? '',
      };
      const delivery: PostgresDelivery = {
        message,
        deliveryCount: row.delivery_count,
        seq: row.seq,
        lease: row.lease,
      };
      this.held.set(row.seq, delivery);
      deliveries.push(delivery);
    }
    return deliveries;
  }
}
