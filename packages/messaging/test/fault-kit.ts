import { expect } from 'vitest';
import type { MessageAdapter } from '../src/adapter.js';
import type { PublishOptions } from '../src/envelope.js';
import type { MessagingHealth } from '../src/health.js';
import { MessageBus } from '../src/message-bus.js';

/** What the fault tests of one transport share: their buses (closed at the end) and their connection errors. */
export class FaultBuses {
  readonly buses: MessageBus[] = [];
  readonly connectionErrors: unknown[] = [];

  /** A bus on `adapter` with lag reports off and a short health deadline; its connection errors are recorded. */
  bus(adapter: MessageAdapter, options: { group?: string; healthTimeoutMs?: number } = {}): MessageBus {
    const created = new MessageBus({
      adapter,
      ...(options.group === undefined ? {} : { group: options.group }),
      lagIntervalMs: 0,
      healthTimeoutMs: options.healthTimeoutMs ?? 1000,
    });
    created.on('error', (event) => {
      if (event.operation === 'connection') this.connectionErrors.push(event.error);
    });
    this.buses.push(created);
    return created;
  }

  async close(timeoutMs = 1000): Promise<void> {
    await Promise.all(this.buses.splice(0).map((created) => created.close({ timeoutMs })));
  }
}

export const healthStatus = async (bus: MessageBus): Promise<MessagingHealth['status']> =>
  (await bus.healthCheck()).status;

/**
 * `work`, started now and awaited later: if the test fails before it awaits it, its later rejection
 * (a bus closed under it) is not reported a second time as an unhandled rejection.
 */
export function inBackground<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

export const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

export interface PublishRetryingOptions {
  /** The first number. @default 0 */
  from?: number;
  /** The payload of number `n`. @default `{ seq: n }` */
  payload?: (n: number) => unknown;
  /** The publish options of number `n` (its key, its id). */
  options?: (n: number) => PublishOptions;
  /** The code every refusal must carry; any retryable refusal passes when unset. */
  code?: string;
  /** Between a refusal and the next try. @default 50 */
  retryMs?: number;
  /** After each publish the transport took. @default 0 */
  gapMs?: number;
  /** Told of each publish the transport took. */
  onPublished?: (n: number) => void;
}

/**
 * Publishes numbers `from` to `from + count - 1` in order, retrying each until the transport takes
 * it (the server may be down, stalled or restarting): every refusal must be retryable. Returns the
 * ids of the messages taken.
 */
export async function publishRetrying(
  bus: MessageBus,
  topic: string,
  count: number,
  options: PublishRetryingOptions = {},
): Promise<string[]> {
  const { from = 0, retryMs = 50, gapMs = 0 } = options;
  const ids: string[] = [];
  for (let n = from; n < from + count; n++) {
    for (;;) {
      try {
        const payload = options.payload ? options.payload(n) : { seq: n };
        ids.push((await bus.publish(topic, payload, options.options?.(n))).id);
        break;
      } catch (error) {
        expect(error).toMatchObject(
          options.code === undefined ? { isRetryable: true } : { code: options.code, isRetryable: true },
        );
        await pause(retryMs);
      }
    }
    options.onPublished?.(n);
    if (gapMs > 0) await pause(gapMs);
  }
  return ids;
}
