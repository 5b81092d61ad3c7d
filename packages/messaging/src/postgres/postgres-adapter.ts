import { EventHub } from '@infra/core';
import { ConnectionEventSource } from '../connection-events.js';
import type { AdapterSubscription, Backlog, MessageAdapter, SubscribeSpec, WireMessage } from '../adapter.js';
import { MessagingError, errorMessage } from '../errors.js';
import { PostgresInbox } from './postgres-inbox.js';
import { PostgresListener } from './postgres-listener.js';
import {
  resolvePostgresOptions,
  type PostgresAdapterOptions,
  type ResolvedPostgresOptions,
} from './postgres-options.js';
import { ownedPool, persistenceDb, type PersistenceLike, type PostgresDb } from './postgres-db.js';
import { postgresStatements, type PostgresStatements } from './postgres-sql.js';
import { PostgresSubscription } from './postgres-subscription.js';

/** Events of the adapter: failures of its connections, which it recovers from by reconnecting. */
export interface PostgresAdapterEvents {
  error: { error: unknown; connection: 'pool' | 'listener' | 'heartbeat' };
}

const capabilities: MessageAdapter['capabilities'] = {
  orderingPerKey: true,
  persistence: true,
  consumerGroups: true,
  replay: true,
};

/** The adapter's lifecycle. */
type AdapterState = { state: 'open' } | { state: 'closed'; closing: Promise<void> };

/**
 * Postgres as the transport: messages stored once per topic, a delivery row per message and
 * group, consumers taking rows with `FOR UPDATE SKIP LOCKED`, woken by `LISTEN/NOTIFY` (with a slow
 * poll as a fallback), deliveries whose consumer died visible again after `visibilityTimeoutMs`,
 * per-key order across the consumers of a group, and an {@link PostgresInbox inbox} that
 * acknowledges a message in the handler's own transaction. Create it with {@link createPostgresAdapter}.
 */
export class PostgresAdapter extends ConnectionEventSource<PostgresAdapterEvents> implements MessageAdapter {
  readonly name: string = 'postgres';
  readonly capabilities: MessageAdapter['capabilities'] = capabilities;
  /** Acknowledges a message in the caller's database transaction (exactly-once effects). */
  readonly inbox: PostgresInbox;
  private readonly statements: PostgresStatements;
  private readonly open = new Set<PostgresSubscription>();
  private listener: PostgresListener | undefined;
  private schemaReady: Promise<void> | undefined;
  private current: AdapterState = { state: 'open' };
  private pruneTimer: NodeJS.Timeout | undefined;
  /** The statistics of the tables were checked (see {@link PostgresAdapter.analyzeOnce}). */
  private analyzeChecked = false;

  /** @internal Use {@link createPostgresAdapter}. */
  constructor(
    private readonly db: PostgresDb,
    private readonly options: ResolvedPostgresOptions,
    readonly persistence: PersistenceLike | undefined,
  ) {
    super();
    this.statements = postgresStatements(options.schema);
    this.inbox = new PostgresInbox({
      persistence,
      statements: this.statements,
      subscriptions: () => this.open,
    });
  }

  /** Stores the messages (and a delivery for every group of their topics) in one statement. */
  async publish(messages: readonly WireMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    await this.ready();
    const n = messages.length;
    const columns = {
      topic: new Array<string>(n),
      id: new Array<string>(n),
      key: new Array<string | null>(n),
      headers: new Array<string>(n),
      body: new Array<string | null>(n),
      bin: new Array<Buffer | null>(n),
      time: new Array<number>(n),
    };
    messages.forEach((message, i) => {
      columns.topic[i] = message.topic;
      columns.id[i] = message.id;
      columns.key[i] = message.key;
      columns.headers[i] = JSON.stringify(message.headers);
      const body = message.body;
      columns.body[i] = typeof body === 'string' ? body : null;
      columns.bin[i] = typeof body === 'string' ? null : Buffer.from(body);
      columns.time[i] = message.timestamp;
    });
    let stored: number | undefined;
    try {
      const { rows } = await this.db.query<{ stored: number }>(this.statements.publish, [
        columns.topic,
        columns.id,
        columns.key,
        columns.headers,
        columns.body,
        columns.bin,
        columns.time,
      ]);
      stored = rows[0]?.stored;
    } catch (error) {
      throw new MessagingError('PUBLISH_FAILED', `Postgres did not store the messages: ${errorMessage(error)}`, {
        topic: messages[0]?.topic,
        cause: error,
        isRetryable: true,
      });
    }
    if (stored !== n) {
      throw new MessagingError('PUBLISH_FAILED', `Postgres stored ${String(stored)} of ${n} messages`, {
        topic: messages[0]?.topic,
        isRetryable: true,
      });
    }
  }

  async subscribe(spec: SubscribeSpec): Promise<AdapterSubscription> {
    this.assertOpen();
    await this.ready();
    const queueId = await this.queue(spec.topic, spec.group, spec.startFrom);
    this.assertOpen();
    this.listen();
    const subscription = new PostgresSubscription(
      this.db,
      this.statements,
      spec,
      {
        queueId,
        batchSize: this.options.batchSize,
        pollIntervalMs: this.options.pollIntervalMs,
        visibilityTimeoutMs: this.options.visibilityTimeoutMs,
        onBacklog: () => {
          this.analyzeOnce();
        },
      },
      (closed) => this.open.delete(closed),
      (error) => {
        this.events.emit('error', { error, connection: 'heartbeat' });
      },
    );
    this.open.add(subscription);
    this.schedulePrune();
    return subscription;
  }

  /** `pending`: deliveries in flight (taken, not acknowledged, not timed out); `lag`: waiting to be taken. */
  async backlog(topic: string, group: string): Promise<Backlog> {
    await this.ready();
    const { rows } = await this.db.query<{ pending: number; lag: number }>(this.statements.backlog, [topic, group]);
    return { pending: rows[0]?.pending ?? 0, lag: rows[0]?.lag ?? 0 };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await this.db.query('SELECT 1');
    } catch (error) {
      throw new MessagingError('ADAPTER_UNAVAILABLE', `Postgres is not reachable: ${errorMessage(error)}`, {
        cause: error,
        isRetryable: true,
      });
    }
  }

  /** The LISTEN connection when it is down, and consumers that cannot keep their deliveries. */
  problems(): string[] {
    const problems: string[] = [];
    const listening = this.listener?.problem();
    if (listening !== undefined) problems.push(`${listening}; consumers poll every ${this.options.pollIntervalMs} ms`);
    for (const subscription of this.open) {
      const problem = subscription.problem();
      if (problem !== undefined) problems.push(problem);
    }
    return problems;
  }

  /**
   * Stops the consumers (what they hold comes back to their groups after the visibility timeout),
   * closes the LISTEN connection and the pool the adapter created (never an injected persistence). Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.current.state === 'closed') return this.current.closing;
    const closing = (async () => {
      clearInterval(this.pruneTimer);
      for (const subscription of this.open) subscription.abort();
      this.open.clear();
      await this.listener?.close();
      await this.db.end(options.timeoutMs ?? 5000);
    })();
    this.current = { state: 'closed', closing };
    return closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Creates the schema once per adapter, under a transaction-level advisory lock so that processes
   * starting together do not race on `CREATE … IF NOT EXISTS`. A failure is tried again on next use.
   */
  private ready(): Promise<void> {
    this.schemaReady ??= this.db
      .transaction(async (sql) => {
        await sql.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.statements.lockKey]);
        await sql.execute(this.statements.createSchema);
      })
      .catch((error: unknown) => {
        this.schemaReady = undefined;
        throw new MessagingError('ADAPTER_UNAVAILABLE', `Postgres is not reachable: ${errorMessage(error)}`, {
          cause: error,
          isRetryable: true,
        });
      });
    return this.schemaReady;
  }

  /** The queue of a topic and group, created on first use (filled with the topic's messages for `earliest`). */
  private async queue(topic: string, group: string, startFrom: 'earliest' | 'latest'): Promise<number> {
    const s = this.statements;
    const found = await this.db.query<{ id: number }>(s.findQueue, [topic, group]);
    if (found.rows[0]) return found.rows[0].id;
    return this.db.transaction(async (sql) => {
      if (startFrom === 'earliest') await sql.query(s.lockMessages);
      const created = await sql.query<{ id: number }>(s.createQueue, [topic, group]);
      const id = created.rows[0]?.id;
      if (id === undefined) {
        const existing = await sql.query<{ id: number }>(s.findQueue, [topic, group]);
        return (existing.rows[0] as { id: number }).id;
      }
      if (startFrom === 'earliest') await sql.query(s.backfillQueue, [id, topic]);
      return id;
    });
  }

  private listen(): void {
    this.listener ??= new PostgresListener(this.db, {
      channel: this.statements.channel,
      connectTimeoutMs: this.options.connectTimeoutMs,
      probeIntervalMs: Math.min(this.options.pollIntervalMs, 5000),
      onNotify: (payload) => {
        this.wake(payload);
      },
      onListening: () => {
        this.wake('');
      },
      onError: (error) => {
        this.events.emit('error', { error, connection: 'listener' });
      },
    });
  }

  private wake(payload: string): void {
    if (payload === '') {
      for (const subscription of this.open) subscription.wake();
      return;
    }
    const ids = new Set(payload.split(',').map(Number));
    for (const subscription of this.open) if (ids.has(subscription.queueId)) subscription.wake();
  }

  /**
   * On the first backlog this adapter meets: analyzes the deliveries and messages tables if they
   * never were. Without statistics the planner takes one queue for a sliver of the table and a take
   * sorts every visible delivery (about twice as slow with 20 000 waiting); autovacuum analyzes a new
   * table only at its next round, and a backlog loaded before then would be consumed at that rate.
   */
  private analyzeOnce(): void {
    if (this.analyzeChecked) return;
    this.analyzeChecked = true;
    const { neverAnalyzed, analyze } = this.statements;
    this.db
      .query<{ never: boolean }>(neverAnalyzed)
      .then(async ({ rows }) => {
        if (rows[0]?.never === true) await this.db.query(analyze);
      })
      .catch((error: unknown) => {
        if (this.current.state === 'open') this.events.emit('error', { error, connection: 'pool' });
      });
  }

  /** Deletes, now and then, messages past `retentionMs` that no group still has to handle. */
  private schedulePrune(): void {
    if (this.pruneTimer) return;
    this.pruneTimer = setInterval(
      () => {
        this.db.query(this.statements.prune, [this.options.retentionMs]).catch((error: unknown) => {
          this.events.emit('error', { error, connection: 'pool' });
        });
      },
      Math.min(this.options.retentionMs, 60_000),
    );
    this.pruneTimer.unref();
  }

  private assertOpen(): void {
    if (this.current.state === 'closed') throw new MessagingError('CLOSED', 'The Postgres adapter is closed');
  }
}

/**
 * A Postgres adapter on `options.persistence` (an `@infra/persistence` instance on the pg driver,
 * never closed by the adapter), or on a pool it creates from `options.connectionString` (default
 * `DATABASE_URL`) and closes. Loads `pg` only here.
 */
export async function createPostgresAdapter(options: PostgresAdapterOptions = {}): Promise<PostgresAdapter> {
  const resolved = resolvePostgresOptions(options);
  const events = new EventHub<PostgresAdapterEvents>();
  const db =
    resolved.persistence === undefined
      ? await ownedPool({
          connectionString: resolved.connectionString as string,
          applicationName: resolved.applicationName ?? '@infra/messaging',
          poolSize: resolved.poolSize,
          connectTimeoutMs: resolved.connectTimeoutMs,
          queryTimeoutMs: resolved.queryTimeoutMs,
          onError: (error) => {
            events.emit('error', { error, connection: 'pool' });
          },
        })
      : await persistenceDb(resolved.persistence, resolved.connectionString, resolved.applicationName);
  const adapter = new PostgresAdapter(db, resolved, resolved.persistence);
  events.on('error', (event) => {
    adapter.events.emit('error', event);
  });
  return adapter;
}
