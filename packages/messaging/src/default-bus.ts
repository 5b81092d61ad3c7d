import { MessageConsumer } from './consumer.js';
import { MessagingError } from './errors.js';
import { MessageBus, type MessageBusOptions } from './message-bus.js';
import { MessagePublisher } from './publisher.js';

let current: MessageBus | undefined;
let explicit = false;

/**
 * Sets up the default bus behind `messagePublisher` and `messageConsumer`, e.g.
 * `configureMessaging({ adapter: await createRedisAdapter({ connection: process.env.REDIS_URL }) })`.
 * Call it once at startup, before subscribing.
 */
export function configureMessaging(options: MessageBusOptions = {}): MessageBus {
  if (current && !current.closed && (explicit || current.subscriptions.length > 0)) {
    throw new MessagingError(
      'ALREADY_CONFIGURED',
      explicit
        ? 'Messaging is already configured: call closeMessaging() before configuring it again'
        : 'The default in-memory bus already has subscriptions: call configureMessaging() before the first subscribe()',
    );
  }
  const previous = current;
  current = new MessageBus(options);
  explicit = true;
  void previous?.close();
  return current;
}

/** The default bus: the configured one, else an in-memory bus created on first use. */
export function getMessageBus(): MessageBus {
  if (!current || current.closed) {
    current = new MessageBus();
    explicit = false;
  }
  return current;
}

/** Replaces the default bus (tests, or an application that builds its bus itself); `undefined` resets it. */
export function setDefaultMessageBus(bus: MessageBus | undefined): void {
  current = bus;
  explicit = bus !== undefined;
}

/** Closes the default bus (draining its subscriptions) and forgets it. */
export async function closeMessaging(options: { timeoutMs?: number } = {}): Promise<void> {
  const bus = current;
  current = undefined;
  explicit = false;
  await bus?.close(options);
}

/** Publisher bound to the default bus. */
export const messagePublisher: MessagePublisher = new MessagePublisher(getMessageBus);

/** Consumer bound to the default bus. */
export const messageConsumer: MessageConsumer = new MessageConsumer(getMessageBus);

/**
 * A bus of its own (with `bus.publisher` and `bus.consumer`), for applications that wire things
 * explicitly and for tests.
 */
export function createMessageBus(options: MessageBusOptions = {}): MessageBus {
  return new MessageBus(options);
}
