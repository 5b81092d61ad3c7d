import type { OutboxMessage, Transaction } from '@infra/persistence';
import { EventHub } from '@infra/core';
import { InvalidOptionError, MessagingError, errorMessage } from '../errors.js';
import type { MessageBus, PublishRequest } from '../message-bus.js';
import { integer, plainObject } from '../validate.js';
import { loadPersistence } from './load-persistence.js';

/** Headers the outbox adds to a stored message so that every delivery of it has the same id and time. */
export const OUTBOX_ID_HEADER = 'x-outbox-message-id';
export const OUTBOX_TIME_HEADER = 'x-outbox-published-at';

export interface OutboxRelayOptions {
  /** Runs the relay's transactions (a `Persistence` or a `TransactionManager`). */
  persistence: { withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> };
  /** The bus the messages go to (or anything with its `publishBatch`). */
  bus: Pick<MessageBus, 'publishBatch'>;
  /** Outbox table, optionally schema-qualified. @default 'outbox' */
  table?: string;
  /** Rows per transaction. @default 100 */
  batchSize?: number;
  /** Safety-net polling period (ms), for messages whose nudge was lost (crash, another instance). @default 1000 */
  pollIntervalMs?: number;
  /**
   * First delay before a message that failed to publish is tried again (ms); doubles per attempt up to an hour.
   * @default 1000
   */
  retryDelayMs?: number;
}

export interface OutboxRelayEvents {
  relayed: { count: number };
  /**
   * A batch failed (the broker refused it, or the relay lost its connection): its rows stay unsent and are tried again.
   */
  error: { error: unknown };
}

const permanent = new Set(['VALIDATION_FAILED', 'SERIALIZATION_FAILED', 'INVALID_ARGUMENT']);

/**
 * Delivers outbox rows to the bus: a batch is locked (`FOR UPDATE SKIP LOCKED`, so instances run
 * side by side), published, and marked sent in one transaction. If the relay dies between
 * publishing and marking, the transaction rolls back and the rows go out again: at-least-once,
 * with the same message ids, for an idempotent consumer to drop the duplicates.
 */
export class OutboxRelay {
  private readonly persistence: OutboxRelayOptions['persistence'];
  private readonly bus: OutboxRelayOptions['bus'];
  private readonly table: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retryDelayMs: number;
  private readonly events = new EventHub<OutboxRelayEvents>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(options: OutboxRelayOptions) {
    plainObject('options', options);
    if (
      typeof (options.persistence as Partial<OutboxRelayOptions['persistence']> | undefined)?.withTransaction !==
      'function'
    ) {
      throw new InvalidOptionError('persistence', options.persistence, 'a Persistence or TransactionManager');
    }
    if (typeof (options.bus as Partial<MessageBus> | undefined)?.publishBatch !== 'function')
      throw new InvalidOptionError('bus', options.bus, 'a MessageBus');
    this.persistence = options.persistence;
    this.bus = options.bus;
    this.table = options.table ?? 'outbox';
    this.batchSize = integer('batchSize', options.batchSize ?? 100);
    this.pollIntervalMs = integer('pollIntervalMs', options.pollIntervalMs ?? 1000);
    this.retryDelayMs = integer('retryDelayMs', options.retryDelayMs ?? 1000);
  }

  on<K extends keyof OutboxRelayEvents>(event: K, listener: (payload: OutboxRelayEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Starts polling (an unref'd timer) and relays what is waiting now. Idempotent. */
  start(): this {
    if (this.closed) throw new MessagingError('CLOSED', 'This outbox relay is closed');
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.nudge();
      }, this.pollIntervalMs);
      this.timer.unref();
      this.nudge();
    }
    return this;
  }

  /** Relays soon (the fast path after a commit); calls while a run is going on fold into one more run. */
  nudge(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Relays until the outbox has nothing due; resolves with the number of messages delivered. */
  async drain(): Promise<number> {
    await this.running;
    let total = 0;
    for (;;) {
      const count = await this.relayBatch();
      total += count;
      if (count < this.batchSize) return total;
    }
  }

  /**
   * One transaction: lock a batch, publish it, mark it sent. Resolves with the number delivered;
   * a failure is reported on `error` and leaves the rows for a later run.
   */
  async relayBatch(): Promise<number> {
    try {
      return await this.persistence.withTransaction((tx) => this.deliver(tx));
    } catch (error) {
      this.events.emit('error', { error });
      return 0;
    }
  }

  /** Stops polling and waits for the batch in progress. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      while (!this.closed && (await this.relayBatch()) === this.batchSize);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- nudge() and close() run while a batch is out
    } while (this.again && !this.closed);
  }

  private async deliver(tx: Transaction): Promise<number> {
    const { fetchOutboxBatch, markOutboxSent } = await loadPersistence();
    const rows = await fetchOutboxBatch(tx, { limit: this.batchSize, table: this.table });
    if (rows.length === 0) return 0;
    let sent: OutboxMessage[] = rows;
    try {
      await this.bus.publishBatch(rows.map(toRequest));
    } catch (error) {
      sent = await this.deliverOneByOne(tx, rows, error);
    }
    await markOutboxSent(
      tx,
      sent.map((row) => row.id),
      { table: this.table },
    );
    if (sent.length > 0) this.events.emit('relayed', { count: sent.length });
    return rows.length;
  }

  /**
   * After a failed batch: if the broker is down, every row waits; if a message itself is bad,
   * the others go out one by one and only the bad ones wait, so that one row never blocks the rest.
   */
  private async deliverOneByOne(tx: Transaction, rows: OutboxMessage[], error: unknown): Promise<OutboxMessage[]> {
    const { markOutboxFailed } = await loadPersistence();
    const sent: OutboxMessage[] = [];
    const isPermanent = MessagingError.isInstance(error) && permanent.has(error.code);
    for (const row of rows) {
      let failure: unknown = error;
      if (isPermanent) {
        try {
          await this.bus.publishBatch([toRequest(row)]);
          sent.push(row);
          continue;
        } catch (rowError) {
          failure = rowError;
        }
      }
      const retryDelayMs = Math.min(3_600_000, this.retryDelayMs * 2 ** Math.min(row.attempts, 20));
      await markOutboxFailed(tx, row.id, errorMessage(failure), { retryDelayMs, table: this.table });
    }
    this.events.emit('error', { error });
    return sent;
  }
}

function toRequest(row: OutboxMessage): PublishRequest {
  const { [OUTBOX_ID_HEADER]: id, [OUTBOX_TIME_HEADER]: time, ...headers } = row.headers;
  const timestamp = Number(time);
  return {
    topic: row.topic,
    payload: row.payload,
    ...(row.key === null ? {} : { key: row.key }),
    headers,
    id: id ?? `outbox-${row.id}`,
    timestamp: Number.isFinite(timestamp) && timestamp > 0 ? timestamp : row.createdAt.getTime(),
  };
}
