import type { Transaction } from '@infra/persistence';
import type { PublishOptions, PublishedMessage } from '../envelope.js';
import { InvalidOptionError, MessagingError } from '../errors.js';
import type { MessageBus } from '../message-bus.js';
import { plainObject } from '../validate.js';
import { loadPersistence } from './load-persistence.js';
import type { OutboxRelay } from './outbox-relay.js';
import { storedWire } from './stored-message.js';

export interface TransactionalOutboxOptions {
  /** The bus whose serializer and schemas check messages (and to which the relay delivers). */
  bus: MessageBus;
  /**
   * Where the ambient transaction comes from when `publish` is not given one (a `Persistence`). @default none: pass `{
   * tx }`
   */
  persistence?: { currentTransaction(): Transaction | undefined };
  /** Relay to nudge right after a commit that wrote messages. @default none: the relay finds them by polling */
  relay?: OutboxRelay;
  /** Outbox table, optionally schema-qualified. @default 'outbox' */
  table?: string;
}

export interface OutboxPublishOptions extends PublishOptions {
  /** The transaction to write in. @default the persistence's ambient transaction */
  tx?: Transaction;
}

/**
 * Publishes by writing to the outbox table in the caller's transaction: the message exists if and
 * only if the business change commits. The relay delivers it afterwards, nudged right after the
 * commit; a rolled-back transaction publishes nothing.
 */
export class TransactionalOutbox {
  private readonly bus: MessageBus;
  private readonly persistence: TransactionalOutboxOptions['persistence'];
  private readonly relay: OutboxRelay | undefined;
  private readonly table: string;

  constructor(options: TransactionalOutboxOptions) {
    plainObject('options', options);
    if (typeof (options.bus as Partial<MessageBus> | undefined)?.prepare !== 'function')
      throw new InvalidOptionError('bus', options.bus, 'a MessageBus');
    if (
      options.persistence !== undefined &&
      typeof (options.persistence as Partial<{ currentTransaction: unknown }>).currentTransaction !== 'function'
    ) {
      throw new InvalidOptionError('persistence', options.persistence, 'a Persistence (with currentTransaction())');
    }
    this.bus = options.bus;
    this.persistence = options.persistence;
    this.relay = options.relay;
    this.table = options.table ?? 'outbox';
  }

  /** Writes the message to the outbox in `options.tx` (or the ambient transaction). */
  async publish(topic: string, payload: unknown, options: OutboxPublishOptions = {}): Promise<PublishedMessage> {
    plainObject('options', options, 'INVALID_ARGUMENT');
    const { tx: given, ...publishOptions } = options;
    const tx = given ?? this.persistence?.currentTransaction();
    if (!tx) {
      throw new MessagingError(
        'NO_TRANSACTION',
        `Outbox publish of "${topic}" needs a transaction: pass { tx } or call it inside withTransaction`,
        { topic },
      );
    }
    const message = await this.bus.prepare(topic, payload, publishOptions);
    const { addToOutbox } = await loadPersistence();
    // Stored as built: the relay sends this wire message unchanged.
    await addToOutbox(tx, topic, storedWire(message), {
      table: this.table,
      ...(message.key === null ? {} : { key: message.key }),
      headers: { ...message.headers },
    });
    const relay = this.relay;
    if (relay) {
      tx.afterCommit(() => {
        relay.nudge();
      });
    }
    return { id: message.id, topic, key: message.key, timestamp: message.timestamp, headers: message.headers };
  }
}
