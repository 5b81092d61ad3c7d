import { InvalidOptionError, MessagingError } from '../errors.js';
import type { PersistenceLike, Sql } from './postgres-db.js';
import type { PostgresDelivery, PostgresSubscription } from './postgres-subscription.js';
import type { PostgresStatements } from './postgres-sql.js';

/** A transaction of `@infra/persistence` (anything that runs SQL in one database transaction). */
export type InboxTransaction = Sql;

/** What identifies the delivery to acknowledge: the message a handler received. */
export interface InboxMessage {
  readonly id: string;
  readonly topic: string;
  readonly group: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface InboxAckOptions {
  /** The transaction to acknowledge in. @default the adapter's persistence's ambient transaction */
  tx?: InboxTransaction;
}

interface InboxHost {
  readonly persistence: PersistenceLike | undefined;
  readonly statements: PostgresStatements;
  subscriptions(): Iterable<PostgresSubscription>;
}

/**
 * Acknowledges a message in the caller's database transaction: the handler's writes and the
 * acknowledgement commit together or not at all, so the effects happen exactly once even when the
 * process dies between them (a redelivery can only follow a transaction that rolled back).
 *
 * ```ts
 * bus.subscribe('order.paid', async (order, message) => {
 *   await persistence.withTransaction(async (tx) => {
 *     await tx.query('INSERT INTO invoices (order_id) VALUES ($1)', [order.id]);
 *     await adapter.inbox.ack(message); // in the ambient transaction, or pass { tx }
 *   });
 * });
 * ```
 */
export class PostgresInbox {
  constructor(private readonly host: InboxHost) {}

  /**
   * Deletes the message's delivery in `options.tx` (default: the ambient transaction of the
   * adapter's persistence). Fails with `NO_TRANSACTION` outside a transaction, `INVALID_ARGUMENT`
   * for a message this adapter's consumers do not hold, and `LEASE_LOST` when the delivery is no
   * longer this consumer's (acknowledged already, or handed to another consumer after its
   * visibility timeout): the transaction must then roll back, and the error says so by being thrown.
   */
  async ack(message: InboxMessage, options: InboxAckOptions = {}): Promise<void> {
    if (typeof message !== 'object' || typeof (message as Partial<InboxMessage>).id !== 'string') {
      throw new InvalidOptionError('message', message, 'the message a handler received', 'INVALID_ARGUMENT');
    }
    const tx = options.tx ?? this.host.persistence?.currentTransaction();
    if (tx === undefined) {
      throw new MessagingError(
        'NO_TRANSACTION',
        `Inbox ack of message ${message.id} needs a transaction: call it inside withTransaction or pass { tx }`,
        { topic: message.topic },
      );
    }
    const found = this.find(message);
    if (!found) {
      throw new InvalidOptionError(
        'message',
        message.id,
        `a message of "${message.topic}" held by a consumer of group "${message.group}" of this adapter`,
        'INVALID_ARGUMENT',
      );
    }
    const { subscription, delivery } = found;
    const { rowCount } = await tx.query(this.host.statements.inboxAck, [
      subscription.queueId,
      delivery.seq,
      delivery.lease,
    ]);
    if (rowCount !== 1) {
      throw new MessagingError(
        'LEASE_LOST',
        `Message ${message.id} of "${message.topic}" is no longer held by this consumer of group "${message.group}" ` +
          '(acknowledged already, or handed to another consumer after its visibility timeout): roll back',
        { topic: message.topic },
      );
    }
  }

  private find(message: InboxMessage): { subscription: PostgresSubscription; delivery: PostgresDelivery } | undefined {
    for (const subscription of this.host.subscriptions()) {
      if (subscription.topic !== message.topic || subscription.group !== message.group) continue;
      const delivery = subscription.find(message);
      if (delivery) return { subscription, delivery };
    }
    return undefined;
  }
}
