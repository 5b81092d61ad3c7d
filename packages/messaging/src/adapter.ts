/**
 * The contract between the bus and a transport. The bus owns envelopes, serialization,
 * validation, retries, dead letters and scheduling; an adapter only moves bytes and tracks
 * acknowledgements, so a new transport is a few hundred lines.
 */

/** A message as it crosses the wire: the envelope with a serialized body. */
export interface WireMessage {
  readonly id: string;
  readonly topic: string;
  /** Partition / ordering key; `null` for none. */
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch, set when the message was published. */
  readonly timestamp: number;
  readonly body: string | Uint8Array;
}

/** One delivery of a message to one consumer. Adapters add the fields they need to acknowledge it. */
export interface Delivery {
  readonly message: WireMessage;
  /** 1 on first delivery; more when the message was delivered before and not acknowledged. */
  readonly deliveryCount: number;
}

/** What an adapter can promise. The contract suite tests each promise it makes. */
export interface AdapterCapabilities {
  /** Messages with one key are handled in publish order across all consumers of a group. */
  readonly orderingPerKey: boolean;
  /** Messages survive a restart of the process (and of the broker, as far as it persists). */
  readonly persistence: boolean;
  /** Several consumers in one group share the messages of a topic, each handled by one of them. */
  readonly consumerGroups: boolean;
  /** A new group can start from the oldest retained message (`startFrom: 'earliest'`). */
  readonly replay: boolean;
}

export interface SubscribeSpec {
  readonly topic: string;
  readonly group: string;
  /** Unique name of this consumer within the group. */
  readonly consumer: string;
  /** Where a group that does not exist yet starts. */
  readonly startFrom: 'latest' | 'earliest';
  /**
   * Where the bus dead-letters this subscription's messages; `null` when it drops them. A transport
   * that discards what is published to a topic no group consumes yet (RabbitMQ) prepares the group's
   * place on that topic when it subscribes, so that no dead letter is lost before anyone reads them.
   */
  readonly deadLetterTopic?: string | null;
}

/** A consumer's handle on a topic, pulled by the bus as fast as handlers finish (back-pressure). */
export interface AdapterSubscription<D extends Delivery = Delivery> {
  /**
   * Up to `max` deliveries. Waits (long-poll) while there are none; resolves with what it has,
   * possibly nothing, when `signal` aborts.
   */
  fetch(max: number, signal: AbortSignal): Promise<D[]>;
  /** Marks deliveries as done: they are not delivered to this group again. */
  ack(deliveries: readonly D[]): Promise<void>;
  /**
   * Stops consuming. `unacked` were fetched but not finished: the adapter makes them available to
   * the group again (at once, or once they have been idle long enough). Flushes pending acks first.
   */
  close(unacked: readonly D[]): Promise<void>;
}

/** Backlog of a group on a topic. */
export interface Backlog {
  /** Delivered to a consumer, not acknowledged yet. */
  pending: number;
  /** Published, not delivered to the group yet; `null` when the transport cannot tell. */
  lag: number | null;
}

export interface MessageAdapter {
  /** Short name shown in health checks and errors (`memory`, `redis`, `kafka`). */
  readonly name: string;
  readonly capabilities: AdapterCapabilities;
  /** Publishes in order; resolves when the transport has accepted every message. */
  publish(messages: readonly WireMessage[]): Promise<void>;
  subscribe(spec: SubscribeSpec): Promise<AdapterSubscription>;
  backlog(topic: string, group: string): Promise<Backlog>;
  /** Resolves when the transport answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  /**
   * Optional: for a topic name the transport cannot use (Kafka refuses `:` and `/`, which Redis keys
   * allow), what it expects instead; `undefined` when the name is fine. The bus asks when subscribing,
   * so that a bad topic (`INVALID_ARGUMENT`) or dead-letter topic (`INVALID_OPTION`) fails at once,
   * not when the first message has to be dead-lettered.
   */
  checkTopicName?(topic: string): string | undefined;
  /**
   * What the transport sees going wrong with its consumers (a consumer outside its group, a stalled
   * partition), one line each; the health check warns with them. Optional: none when absent.
   */
  problems?(): string[];
  /**
   * Closes what the adapter created (never an injected client). Idempotent. `timeoutMs` bounds
   * a clean disconnect; past it connections are dropped.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Optional: reports failures of the connections the adapter created (it recovers from them by
   * reconnecting). The bus routes them to its `error` event with `operation: 'connection'`.
   */
  onConnectionError?(listener: (error: unknown) => void): () => void;
}
