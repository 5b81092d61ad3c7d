import { InvalidOptionError } from './errors.js';
import type { MessageBus, PayloadOf } from './message-bus.js';
import type { SubscribeOptions } from './subscribe-options.js';
import type { MessageHandler, Subscription } from './subscription.js';
import { plainObject } from './validate.js';

/** The consuming side of a bus (the documented `messageConsumer`). */
export class MessageConsumer {
  private readonly resolveBus: () => MessageBus;
  private readonly mine = new Set<Subscription>();

  /** `bus` may be a function, so that a module-level consumer follows the configured default bus. */
  constructor(bus: MessageBus | (() => MessageBus)) {
    this.resolveBus = typeof bus === 'function' ? bus : () => bus;
  }

  /** Calls `handler` for every message of `topic` (in the subscription's group). Starts in the background. */
  subscribe<K extends string>(
    topic: K,
    handler: MessageHandler<PayloadOf<K>>,
    options?: SubscribeOptions,
  ): Subscription {
    const subscription = this.resolveBus().subscribe(topic, handler, options);
    this.mine.add(subscription);
    void subscription.ready().catch(() => this.mine.delete(subscription));
    return subscription;
  }

  /** Subscribes each handler of a `{ topic: handler }` map (the documented `messageHandlers`) with the same options. */
  subscribeAll(handlers: Readonly<Record<string, MessageHandler>>, options?: SubscribeOptions): Subscription[] {
    plainObject('handlers', handlers, 'INVALID_ARGUMENT');
    const entries = Object.entries(handlers);
    for (const [topic, handler] of entries) {
      if (typeof handler !== 'function')
        throw new InvalidOptionError(`handlers.${topic}`, handler, 'a function', 'INVALID_ARGUMENT');
    }
    return entries.map(([topic, handler]) => this.subscribe(topic, handler, options));
  }

  /** Closes the subscriptions made through this consumer, draining each within `timeoutMs`. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    const subscriptions = [...this.mine];
    this.mine.clear();
    await Promise.all(subscriptions.map((subscription) => subscription.close(options)));
  }
}
