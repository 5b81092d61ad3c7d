import type { Queryable } from './driver.js';
import { InvalidOptionError } from './errors.js';
import type { Migration } from './migrations/migration.js';
import { isTransaction, type Transaction } from './transaction.js';
import { integer, nonEmptyString, plainObject, qualifiedName } from './validate.js';

export interface OutboxTableOptions {
  /** Outbox table, optionally schema-qualified. @default 'outbox' */
  table?: string;
}

export interface AddToOutboxOptions extends OutboxTableOptions {
  /** Partition / ordering key for the broker. @default null */
  key?: string;
  /** String headers sent with the message. @default {} */
  headers?: Record<string, string>;
}

/** A message waiting in the outbox, as a relay reads it. */
export interface OutboxMessage {
  /** Monotonic id (a bigint, as a string). */
  id: string;
  topic: string;
  key: string | null;
  payload: unknown;
  headers: Record<string, string>;
  /** Failed delivery attempts so far. */
  attempts: number;
  createdAt: Date;
}

export interface FetchOutboxOptions extends OutboxTableOptions {
  /** Most messages returned. @default 100 */
  limit?: number;
}

/**
 * The migration that creates the outbox table. Put it in your migration list; its id sorts first
 * by default so that the table exists before application migrations that might reference it.
 */
export function outboxMigration(options: OutboxTableOptions & { id?: string } = {}): Migration {
  plainObject('options', options, 'INVALID_ARGUMENT');
  const table = qualifiedName('table', options.table ?? 'outbox');
  const index = `"${(options.table ?? 'outbox').replace('.', '_')}_pending_idx"`;
  return {
    id: nonEmptyString('id', options.id ?? '0000_infra_outbox'),
    sql: `CREATE TABLE IF NOT EXISTS ${table} (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  key text,
  payload jsonb NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  available_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX IF NOT EXISTS ${index} ON ${table} (available_at, id) WHERE sent_at IS NULL;
`,
  };
}

/**
 * Writes a message to the outbox inside `tx`, so that it exists if and only if the transaction
 * commits; a relay (`@infra/messaging`) publishes it afterwards.
 */
export async function addToOutbox(
  tx: Transaction,
  topic: string,
  payload: unknown,
  options: AddToOutboxOptions = {},
): Promise<{ id: string }> {
  if (!isTransaction(tx)) {
    throw new InvalidOptionError(
      'tx',
      tx,
      'an active transaction (the outbox row must commit with the business change)',
      'INVALID_ARGUMENT',
    );
  }
  nonEmptyString('topic', topic, 'INVALID_ARGUMENT');
  plainObject('options', options, 'INVALID_ARGUMENT');
  const json = payload === undefined ? undefined : JSON.stringify(payload);
  if (json === undefined)
    throw new InvalidOptionError('payload', payload, 'a JSON-serializable value', 'INVALID_ARGUMENT');
  const key = options.key === undefined ? null : nonEmptyString('key', options.key, 'INVALID_ARGUMENT');
  const headers = options.headers ?? {};
  plainObject('headers', headers, 'INVALID_ARGUMENT');
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string')
      throw new InvalidOptionError(`headers.${name}`, value, 'a string', 'INVALID_ARGUMENT');
  }
  const table = qualifiedName('table', options.table ?? 'outbox');
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO ${table} (topic, key, payload, headers) VALUES ($1, $2, $3::jsonb, $4::jsonb) RETURNING id::text AS id`,
    [topic, key, json, JSON.stringify(headers)],
  );
  return { id: rows[0]?.id ?? '' };
}

/**
 * Locks and returns the oldest unsent messages that are due (`FOR UPDATE SKIP LOCKED`: relays
 * running in parallel each get different rows). Call it in a transaction and mark the rows in the
 * same one.
 */
export async function fetchOutboxBatch(tx: Queryable, options: FetchOutboxOptions = {}): Promise<OutboxMessage[]> {
  plainObject('options', options, 'INVALID_ARGUMENT');
  const table = qualifiedName('table', options.table ?? 'outbox');
  const limit = integer('limit', options.limit ?? 100, 1);
  const { rows } = await tx.query<OutboxMessage>(
    // Order by the bigint column, not the text alias (text would put 10 before 9).
    `SELECT o.id::text AS id, o.topic, o.key, o.payload, o.headers, o.attempts, o.created_at AS "createdAt"
      FROM ${table} AS o
      WHERE o.sent_at IS NULL AND o.available_at <= now()
      ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

/** Marks messages as sent; returns how many were still unsent. */
export async function markOutboxSent(
  tx: Queryable,
  ids: readonly string[],
  options: OutboxTableOptions = {},
): Promise<number> {
  const list = outboxIds(ids);
  if (list.length === 0) return 0;
  const table = qualifiedName('table', options.table ?? 'outbox');
  const { rowCount } = await tx.query(
    `UPDATE ${table} SET sent_at = now() WHERE id = ANY($1::bigint[]) AND sent_at IS NULL`,
    [list],
  );
  return rowCount;
}

/** Records a failed delivery and hides the message from relays for `retryDelayMs`. */
export async function markOutboxFailed(
  tx: Queryable,
  id: string,
  error: string,
  options: OutboxTableOptions & { retryDelayMs?: number } = {},
): Promise<void> {
  const [messageId] = outboxIds([id]);
  if (typeof error !== 'string')
    throw new InvalidOptionError('error', error, 'a string describing the failure', 'INVALID_ARGUMENT');
  const table = qualifiedName('table', options.table ?? 'outbox');
  const retryDelayMs = integer('retryDelayMs', options.retryDelayMs ?? 1000);
  await tx.query(
    `UPDATE ${table} SET attempts = attempts + 1, last_error = $2,
       available_at = now() + ($3::integer * interval '1 millisecond') WHERE id = $1::bigint`,
    [messageId, error.slice(0, 2000), retryDelayMs],
  );
}

function outboxIds(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw new InvalidOptionError('ids', ids, 'an array of outbox ids', 'INVALID_ARGUMENT');
  return ids.map((id, index) => {
    if (typeof id !== 'string' || !/^\d{1,19}$/.test(id)) {
      throw new InvalidOptionError(
        `ids[${index}]`,
        id,
        'an outbox id (digits, as returned by addToOutbox)',
        'INVALID_ARGUMENT',
      );
    }
    return id;
  });
}
