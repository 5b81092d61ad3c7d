/** A listener of one event. */
export type Listener<T> = (payload: T) => void;

/**
 * Typed listeners by event name. A listener that throws does not stop the others, nor the
 * operation that emitted: its error becomes a process warning (code `INFRA_LISTENER_ERROR`), so it
 * is neither lost nor able to break the library's own work.
 */
export class EventHub<Events extends object> {
  private readonly listeners = new Map<keyof Events, Listener<never>[]>();

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
    return () => {
      this.off(event, listener);
    };
  }

  /** Subscribes for the next emission only; returns a function that unsubscribes. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.listeners.delete(event);
  }

  /** Number of events that have at least one listener. */
  get size(): number {
    return this.listeners.size;
  }

  /** True when `event` has a listener: lets a caller skip building a payload nobody reads. */
  has(event: keyof Events): boolean {
    return this.listeners.has(event);
  }

  /** Calls every listener of `event` in the order they subscribed. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const listener of list.slice()) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        process.emitWarning(
          `A listener of "${String(event)}" threw: ${error instanceof Error ? error.message : String(error)}`,
          { code: 'INFRA_LISTENER_ERROR', detail: error instanceof Error ? error.stack : undefined },
        );
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners.clear();
  }
}
