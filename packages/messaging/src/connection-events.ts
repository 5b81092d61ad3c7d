import { EventHub } from '@infra/core';

/**
 * Base of the adapters that report failures of the connections they created, and recover from by
 * reconnecting, as `error` events: `on` subscribes to the adapter's events, and the bus takes the
 * failures through `onConnectionError`.
 */
export abstract class ConnectionEventSource<Events extends { error: { error: unknown } }> {
  /** The adapter's events; `error` for each failure of a connection it created. */
  readonly events: EventHub<Events> = new EventHub<Events>();

  /** Subscribes to the adapter's events. */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** @internal The bus routes connection failures to its own `error` event. */
  onConnectionError(listener: (error: unknown) => void): () => void {
    return this.events.on('error', (event) => {
      listener(event.error);
    });
  }
}
