import { randomUUID } from 'node:crypto';
import { sleep } from '@infra/core';
import type { MessageHandler, ReceivedMessage } from './subscription.js';
import { fn, integer, plainObject, withMethods } from './validate.js';

/**
 * Where an idempotent consumer records the messages it has handled. A key is `claimed` for a
 * lease while its handler runs, then `done` for a TTL; a claim whose lease ran out (its consumer
 * died) can be taken over.
 */
export interface IdempotencyStore {
  /** `claimed`: run the handler; `done`: handled before, skip; `busy`: another consumer holds the lease. */
  claim(key: string, token: string, leaseMs: number): Promise<'claimed' | 'done' | 'busy'>;
  /** Records `key` as handled for `ttlMs`. */
  complete(key: string, token: string, ttlMs: number): Promise<void>;
  /** Gives up a claim after a failed handler, so that a retry can claim it again. */
  release(key: string, token: string): Promise<void>;
}

export interface IdempotentOptions {
  store: IdempotencyStore;
  /** How long a handled message is remembered (ms); longer than any redelivery can take. @default 86_400_000 (24 h) */
  ttlMs?: number;
  /**
   * How long a claim lasts (ms): more than the handler takes, less than you want a crashed claim to block. @default
   * 30_000
   */
  leaseMs?: number;
  /** How often a duplicate waits for a running claim to end (ms). @default 50 */
  pollMs?: number;
  /** Dedupe key of a message. @default `${group}:${id}` (a message handled once per group) */
  key?: (message: ReceivedMessage) => string;
  /** Called with each duplicate skipped. @default none */
  onDuplicate?: (message: ReceivedMessage) => void;
}

/**
 * Wraps `handler` so that a message id is handled once even when it is delivered again (a
 * consumer died before acknowledging, an outbox relay sent twice). A duplicate arriving while the
 * first delivery still runs waits for it to finish (or for its lease to run out) instead of
 * being acknowledged blindly.
 */
export function idempotent<T>(
  handler: MessageHandler<T>,
  options: IdempotentOptions,
): (payload: T, message: ReceivedMessage<T>) => Promise<void> {
  fn('handler', handler);
  plainObject('options', options);
  const target = withMethods<IdempotencyStore>(
    'store',
    options.store,
    ['claim', 'complete', 'release'],
    'an IdempotencyStore (claim, complete, release)',
  );
  const ttlMs = integer('ttlMs', options.ttlMs ?? 86_400_000);
  const leaseMs = integer('leaseMs', options.leaseMs ?? 30_000);
  const pollMs = integer('pollMs', options.pollMs ?? 50);
  const keyOf =
    options.key === undefined
      ? (message: ReceivedMessage) => `${message.group}:${message.id}`
      : fn<(message: ReceivedMessage) => string>('key', options.key, 'INVALID_OPTION');
  const onDuplicate =
    options.onDuplicate === undefined
      ? undefined
      : fn<(message: ReceivedMessage) => void>('onDuplicate', options.onDuplicate, 'INVALID_OPTION');

  return async (payload: T, message: ReceivedMessage<T>): Promise<void> => {
    const key = keyOf(message);
    const token = randomUUID();
    for (;;) {
      const state = await target.claim(key, token, leaseMs);
      if (state === 'done') {
        onDuplicate?.(message);
        return;
      }
      if (state === 'claimed') break;
      await sleep(pollMs, message.signal);
    }
    try {
      await handler(payload, message);
    } catch (error) {
      await target.release(key, token).catch(() => undefined);
      throw error;
    }
    await target.complete(key, token, ttlMs);
  };
}

/** In-process store: for a single instance and for tests. Expired keys are swept as it is used. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, { done: boolean; token: string; expiresAt: number }>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  claim(key: string, token: string, leaseMs: number): Promise<'claimed' | 'done' | 'busy'> {
    const now = this.now();
    this.sweep(now);
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return Promise.resolve(entry.done ? 'done' : 'busy');
    this.entries.set(key, { done: false, token, expiresAt: now + leaseMs });
    return Promise.resolve('claimed');
  }

  complete(key: string, token: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { done: true, token, expiresAt: this.now() + ttlMs });
    return Promise.resolve();
  }

  release(key: string, token: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry && !entry.done && entry.token === token) this.entries.delete(key);
    return Promise.resolve();
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 10_000;
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
