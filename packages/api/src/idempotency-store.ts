import { check } from './errors.js';

/** A response kept for replay under an idempotency key. */
export interface IdempotencyRecord {
  /** Hash of the method, route and body of the request that produced it. */
  fingerprint: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What {@link IdempotencyStore.begin} found under a key. */
export type IdempotencyBegin =
  { kind: 'started' } | { kind: 'in-flight'; fingerprint: string } | { kind: 'completed'; record: IdempotencyRecord };

/**
 * Where idempotency keys live. `begin` must be atomic: of two concurrent calls for one key, exactly
 * one gets `started`.
 */
export interface IdempotencyStore {
  /** Claims `key` for a request with `fingerprint` for at most `lockTtlMs`, or says who holds it. */
  begin(key: string, fingerprint: string, lockTtlMs: number): Promise<IdempotencyBegin>;
  /** Stores the response of the claimed key for `ttlMs`. */
  complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void>;
  /** Forgets a claim whose request ended without a response to keep (a 5xx, an abort). */
  release(key: string): Promise<void>;
  /** Releases what the store created. */
  close?(): Promise<void>;
}

type Entry =
  | { state: 'in-flight'; fingerprint: string; expiresAt: number }
  | { state: 'completed'; record: IdempotencyRecord; expiresAt: number };

export interface MemoryIdempotencyStoreOptions {
  /** Clock in epoch ms, for tests. @default Date.now */
  now?: () => number;
  /** Most keys kept; the oldest go first when it is reached. @default 100_000 */
  maxEntries?: number;
}

/** Keys in this process's memory: one instance only (use the Redis store behind a load balancer). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    check.plainObject('options', options);
    this.now = check.optionalFn<() => number>('now', options.now) ?? Date.now;
    this.maxEntries = check.integer('maxEntries', options.maxEntries ?? 100_000, 1);
  }

  begin(key: string, fingerprint: string, lockTtlMs: number): Promise<IdempotencyBegin> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expiresAt > now) {
      return Promise.resolve(
        entry.state === 'completed'
          ? { kind: 'completed', record: entry.record }
          : { kind: 'in-flight', fingerprint: entry.fingerprint },
      );
    }
    this.set(key, { state: 'in-flight', fingerprint, expiresAt: now + lockTtlMs });
    return Promise.resolve({ kind: 'started' });
  }

  complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    this.set(key, { state: 'completed', record, expiresAt: this.now() + ttlMs });
    return Promise.resolve();
  }

  release(key: string): Promise<void> {
    if (this.entries.get(key)?.state === 'in-flight') this.entries.delete(key);
    return Promise.resolve();
  }

  private set(key: string, entry: Entry): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const now = this.now();
      for (const [name, old] of this.entries) if (old.expiresAt <= now) this.entries.delete(name);
      // Still full: drop the oldest insertions (a Map iterates in insertion order).
      for (const name of this.entries.keys()) {
        if (this.entries.size < this.maxEntries) break;
        this.entries.delete(name);
      }
    }
    this.entries.set(key, entry);
  }
}

/** The one command an ioredis client (`Redis` or `Cluster`) offers that this store needs. */
export interface RedisCommandClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

export interface RedisIdempotencyStoreOptions {
  /** An ioredis client; the caller's, never closed by the store. */
  client: RedisCommandClient;
  /** Prefix of every key the store writes. @default 'infra:idem:' */
  prefix?: string;
}

/**
 * Keys in Redis, shared by every instance of the service: `SET NX PX` claims a key atomically;
 * the completed response replaces the claim with its own expiry.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly client: RedisCommandClient;
  readonly prefix: string;

  constructor(options: RedisIdempotencyStoreOptions) {
    check.plainObject('options', options);
    this.client = check.withMethods<RedisCommandClient>('client', options.client, ['call'], 'an ioredis client');
    this.prefix = check.nonEmptyString('prefix', options.prefix ?? 'infra:idem:');
  }

  async begin(key: string, fingerprint: string, lockTtlMs: number): Promise<IdempotencyBegin> {
    const claim = JSON.stringify({ state: 'in-flight', fingerprint });
    const name = this.prefix + key;
    const set = await this.client.call('SET', name, claim, 'PX', Math.ceil(lockTtlMs), 'NX');
    if (set === 'OK') return { kind: 'started' };
    const found = await this.client.call('GET', name);
    // Expired between the two commands: claim again.
    if (typeof found !== 'string' && !Buffer.isBuffer(found)) return this.begin(key, fingerprint, lockTtlMs);
    const entry = JSON.parse(String(found)) as Entry;
    return entry.state === 'completed'
      ? { kind: 'completed', record: entry.record }
      : { kind: 'in-flight', fingerprint: entry.fingerprint };
  }

  async complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    const entry = JSON.stringify({ state: 'completed', record });
    await this.client.call('SET', this.prefix + key, entry, 'PX', Math.ceil(ttlMs));
  }

  async release(key: string): Promise<void> {
    await this.client.call('DEL', this.prefix + key);
  }
}
