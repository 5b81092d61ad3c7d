import { AsyncResource } from 'node:async_hooks';
import type { OutboxMessage, Transaction } from '@infra/persistence';
import { EventHub } from '@infra/core';
import { InvalidOptionError, MessagingError, errorMessage } from '../errors.js';
import type { MessageBus } from '../message-bus.js';
import { integer, plainObject } from '../validate.js';
import { loadPersistence } from './load-persistence.js';
import { relayItem, type RelayItem } from './stored-message.js';

export { OUTBOX_ID_HEADER, OUTBOX_TIME_HEADER } from './stored-message.js';

export interface OutboxRelayOptions {
  /** Runs the relay's transactions (a `Persistence` or a `TransactionManager`). */
  persistence: { withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> };
  /**
   * The bus the messages go to (or anything with its `publishPrepared`, which sends stored messages
   * unchanged, and `publishBatch`, for rows written by hand or by earlier versions).
   */
  bus: Pick<MessageBus, 'publishBatch' | 'publishPrepared'>;
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

/** The relay's lifecycle. */
type RelayState =
  { state: 'idle' } | { state: 'polling'; timer: NodeJS.Timeout } | { state: 'closed'; closing: Promise<void> };

const permanent = new Set(['VALIDATION_FAILED', 'SERIALIZATION_FAILED', 'INVALID_ARGUMENT']);

/**
 * Delivers outbox rows to the bus: a batch is locked (`FOR UPDATE SKIP LOCKED`, so instances run
 * side by side), published, and marked sent in one transaction, only once the broker acknowledged
 * every message of it. If the relay dies between publishing and marking, the transaction rolls back
 * and the rows go out again: at-least-once, with the same message ids, for an idempotent consumer to
 * drop the duplicates. A row holds the wire message as it was prepared; it is sent unchanged.
 */
export class OutboxRelay {
  private readonly persistence: OutboxRelayOptions['persistence'];
  private readonly bus: OutboxRelayOptions['bus'];
  private readonly table: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retryDelayMs: number;
  private readonly events = new EventHub<OutboxRelayEvents>();
  private lifecycle: RelayState = { state: 'idle' };
  /** The run in progress, and whether a nudge arrived during it (one more run follows). */
  private running: Promise<void> | undefined;
  private again = false;
  /**
   * The async context the relay was made in. A run that a commit nudges starts inside that request's
   * context (its trace, its ambient message context); the relay's queries and sends belong to no
   * request, so each run goes back to this one.
   */
  private readonly home = new AsyncResource('@infra/messaging.OutboxRelay');

  constructor(options: OutboxRelayOptions) {
    plainObject('options', options);
    if (
      typeof (options.persistence as Partial<OutboxRelayOptions['persistence']> | undefined)?.withTransaction !==
      'function'
    ) {
      throw new InvalidOptionError('persistence', options.persistence, 'a Persistence or TransactionManager');
    }
    const bus = options.bus as Partial<MessageBus> | undefined;
    if (typeof bus?.publishBatch !== 'function' || typeof bus.publishPrepared !== 'function')
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
    if (this.lifecycle.state === 'closed') throw new MessagingError('CLOSED', 'This outbox relay is closed');
    if (this.lifecycle.state === 'idle') {
      const timer = setInterval(() => {
        this.nudge();
      }, this.pollIntervalMs);
      timer.unref();
      this.lifecycle = { state: 'polling', timer };
      this.nudge();
    }
    return this;
  }

  /** Relays soon (the fast path after a commit); calls while a run is going on fold into one more run. */
  nudge(): void {
    if (this.lifecycle.state === 'closed') return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.home
      .runInAsyncScope(() => this.loop())
      .finally(() => {
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

  /**
   * Stops polling and waits for the batch in progress, at most `timeoutMs` (its transaction then
   * finishes or rolls back on its own; unmarked rows go out again later). Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.lifecycle.state === 'closed') return this.lifecycle.closing;
    if (this.lifecycle.state === 'polling') clearInterval(this.lifecycle.timer);
    const closing = within(this.running ?? Promise.resolve(), options.timeoutMs);
    this.lifecycle = { state: 'closed', closing };
    return closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      while (this.lifecycle.state !== 'closed' && (await this.relayBatch()) === this.batchSize);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run while a batch is out
    } while (this.again && this.lifecycle.state !== 'closed');
  }

  private async deliver(tx: Transaction): Promise<number> {
    const { fetchOutboxBatch, markOutboxSent } = await loadPersistence();
    const rows = await fetchOutboxBatch(tx, { limit: this.batchSize, table: this.table });
    if (rows.length === 0) return 0;
    let sent: OutboxMessage[] = rows;
    try {
      await this.send(rows.map(relayItem));
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

  /** Sends in order: runs of stored messages unchanged, runs of older rows as publish requests. */
  private async send(items: readonly RelayItem[]): Promise<void> {
    for (let start = 0; start < items.length;) {
      const prepared = 'wire' in (items[start] as RelayItem);
      let end = start + 1;
      while (end < items.length && 'wire' in (items[end] as RelayItem) === prepared) end++;
      const run = items.slice(start, end);
      if (prepared) await this.bus.publishPrepared(run.map((item) => (item as { wire: never }).wire));
      else await this.bus.publishBatch(run.map((item) => (item as { request: never }).request));
      start = end;
    }
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
          await this.send([relayItem(row)]);
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

async function within(work: Promise<void>, timeoutMs: number | undefined): Promise<void> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([work, deadline]);
  clearTimeout(timer);
}
