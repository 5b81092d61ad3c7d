import { randomBytes } from 'node:crypto';
import { closeClient, duplicateClient, type RedisClient } from '@infra/core/redis';

/** What a peer announces: keys it changed, or `all` after a clear or a tag deletion. */
export type Invalidation = { keys: readonly string[] } | { all: true };

interface Message {
  o: string;
  k?: readonly string[];
  a?: true;
}

export interface InvalidationBusOptions {
  channel: string;
  /** Called for every peer message, and with `{ all: true }` when messages may have been lost. */
  onInvalidate: (invalidation: Invalidation) => void;
  onError: (error: unknown) => void;
}

/**
 * Cross-instance L1 invalidation over Redis pub/sub. The subscriber is a connection of its own,
 * duplicated from the cache's client (a Cluster's subscriber keeps the cluster's options), with
 * its `error` events reported, and closed by `close()`. While it is not subscribed,
 * `live` is false and the tiered cache bypasses its L1; when it comes back after a drop, peers'
 * messages may have been missed, so the whole L1 is invalidated.
 */
export class InvalidationBus {
  readonly origin: string = randomBytes(8).toString('hex');
  private readonly options: InvalidationBusOptions;
  private subscriber: RedisClient | undefined;
  private readonly waiters = new Set<() => void>();
  private subscribed = false;
  private closed = false;

  constructor(options: InvalidationBusOptions) {
    this.options = options;
  }

  get live(): boolean {
    return this.subscribed;
  }

  /**
   * Creates the subscriber (once) and resolves when it is subscribed. If Redis is down the
   * promise rejects, but the subscriber keeps reconnecting and subscribes when Redis is back.
   */
  start(client: RedisClient): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.subscribed) return Promise.resolve();
    const subscriber = this.subscriber ?? this.createSubscriber(client);
    return new Promise<void>((resolve, reject) => {
      const onLive = (): void => {
        subscriber.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.waiters.delete(onLive);
        reject(new Error('Redis subscriber connection closed before it subscribed'));
      };
      this.waiters.add(onLive);
      subscriber.once('close', onClose);
      if (subscriber.status === 'wait') subscriber.connect().catch(() => undefined);
    });
  }

  /** Announces a change to peers; best effort (a failure is reported, not thrown). */
  async publish(client: RedisClient, invalidation: Invalidation): Promise<void> {
    const message: Message =
      'all' in invalidation ? { o: this.origin, a: true } : { o: this.origin, k: invalidation.keys };
    try {
      await client.publish(this.options.channel, JSON.stringify(message));
    } catch (error) {
      this.options.onError(error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribed = false;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await closeClient(subscriber);
  }

  private createSubscriber(client: RedisClient): RedisClient {
    // The client's options, plus: SUBSCRIBE may wait for the connection, and it is sent again by
    // the 'ready' handler below rather than by ioredis (which would not tell us it resubscribed).
    const subscriber = duplicateClient(client, {
      enableOfflineQueue: true,
      lazyConnect: true,
      autoResubscribe: false,
    });
    this.subscriber = subscriber;
    let wasLive = false;
    subscriber.on('error', (error: unknown) => {
      this.options.onError(error);
    });
    subscriber.on('close', () => {
      this.subscribed = false;
    });
    subscriber.on('message', (_channel: string, text: string) => {
      this.receive(text);
    });
    subscriber.on('ready', () => {
      if (this.closed) return;
      subscriber.subscribe(this.options.channel).then(
        () => {
          if (this.closed) return;
          this.subscribed = true;
          // Invalidations sent while the subscriber was away are lost: forget everything.
          if (wasLive) this.options.onInvalidate({ all: true });
          wasLive = true;
          for (const waiter of this.waiters) waiter();
          this.waiters.clear();
        },
        (error: unknown) => {
          this.options.onError(error);
        },
      );
    });
    return subscriber;
  }

  private receive(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch (error) {
      this.options.onError(error);
      return;
    }
    if (message.o === this.origin) return;
    if (message.a === true) this.options.onInvalidate({ all: true });
    else if (Array.isArray(message.k)) this.options.onInvalidate({ keys: message.k });
  }
}
