import { currentMessageContext, type MessageContext } from '../src/context.js';
import type { PublishOptions } from '../src/envelope.js';
import type { MessageBus } from '../src/message-bus.js';
import type { SubscribeOptions } from '../src/subscribe-options.js';
import type { ReceivedMessage } from '../src/subscription.js';

/** What {@link subscribeOrderRelay} records. */
export interface OrderRelay {
  /** Every `order.placed`, then every `order.billed`, as the handlers received them. */
  readonly seen: ReceivedMessage[];
  /** The message context around each `order.placed` handler (`currentMessageContext()`). */
  readonly ambient: (MessageContext | undefined)[];
}

/**
 * Subscribes a two-hop chain on `bus`, for the tests of what crosses a hop: the handler of
 * `order.placed` records the message and its ambient context, and publishes `order.billed`
 * (with `billed` options), whose handler (subscribed with `subscribe` options) records it too.
 * Resolves once both subscriptions are ready.
 */
export async function subscribeOrderRelay(
  bus: MessageBus,
  { billed, subscribe }: { billed?: PublishOptions; subscribe?: SubscribeOptions } = {},
): Promise<OrderRelay> {
  const relay: OrderRelay = { seen: [], ambient: [] };
  await bus
    .subscribe('order.placed', async (_payload, message) => {
      relay.seen.push(message);
      relay.ambient.push(currentMessageContext());
      await bus.publish('order.billed', { of: message.id }, billed);
    })
    .ready();
  await bus.subscribe('order.billed', (_payload, message) => void relay.seen.push(message), subscribe).ready();
  return relay;
}
