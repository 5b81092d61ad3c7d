import type { PublishOptions, PublishedMessage } from './envelope.js';
import type { MessageBus, PayloadOf, PublishRequest } from './message-bus.js';

/** The publishing side of a bus (the documented `messagePublisher`). */
export class MessagePublisher {
  private readonly resolveBus: () => MessageBus;

  /** `bus` may be a function, so that a module-level publisher follows the configured default bus. */
  constructor(bus: MessageBus | (() => MessageBus)) {
    this.resolveBus = typeof bus === 'function' ? bus : () => bus;
  }

  /** Publishes `payload` to `topic`; resolves with the message's id once the transport has it. */
  publish<K extends string>(topic: K, payload: PayloadOf<K>, options?: PublishOptions): Promise<PublishedMessage> {
    return this.resolveBus().publish(topic, payload, options);
  }

  /** Publishes several messages, in order, in as few round trips as the transport allows. */
  publishBatch(requests: readonly PublishRequest[]): Promise<PublishedMessage[]> {
    return this.resolveBus().publishBatch(requests);
  }
}
