import { startFakeOpenAIServer, type FakeOpenAIServer } from '@infra/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createOpenAIClient,
  type OpenAIClientEvents,
  type OpenAIClientOptions,
  type ResponseCacheStore,
} from './index.js';
import { failure } from '../test/failure.js';

/** Reads a stream to its end. */
async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _item of stream) count++;
  return count;
}

const API_KEY = 'sk-fallback-test-0123456789abcdef';
const BACKUP_KEY = 'sk-backup-region-0123456789abcdef';
let fake: FakeOpenAIServer;
let backup: FakeOpenAIServer;

beforeAll(async () => {
  [fake, backup] = await Promise.all([startFakeOpenAIServer(), startFakeOpenAIServer()]);
});
afterEach(() => {
  fake.reset();
  backup.reset();
});
afterAll(async () => {
  await Promise.all([fake.close(), backup.close()]);
});

const chat = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Say hello' }] };
const modelOf = (body: unknown) => (body as { model?: string } | undefined)?.model;

function client(options: OpenAIClientOptions = {}) {
  const c = createOpenAIClient({
    apiKey: API_KEY,
    baseURL: fake.baseURL,
    maxRetries: 1,
    retry: { initialDelayMs: 1 },
    ...options,
  });
  const seen: { fallback: OpenAIClientEvents['fallback'][]; usage: OpenAIClientEvents['usage'][]; cacheHit: number } = {
    fallback: [],
    usage: [],
    cacheHit: 0,
  };
  c.on('fallback', (e) => seen.fallback.push(e));
  c.on('usage', (e) => seen.usage.push(e));
  c.on('cacheHit', () => seen.cacheHit++);
  return { c, seen };
}

describe('fallbacks', () => {
  it('serves from the next model when the primary breaker is open, and says which model served', async () => {
    const { c, seen } = client({ fallbacks: ['gpt-4o-mini', 'gpt-3.5-turbo'] });
    c.breaker('gpt-4o').open();
    const completion = await c.chat.completions.create(chat);
    expect(completion.model).toBe('gpt-4o-mini');
    expect(fake.requests.map((r) => modelOf(r.body))).toEqual(['gpt-4o-mini']);
    expect(seen.fallback).toEqual([
      { endpoint: '/chat/completions', from: 'gpt-4o', to: 'gpt-4o-mini', code: 'CIRCUIT_OPEN' },
    ]);
    expect(seen.usage[0]).toMatchObject({ model: 'gpt-4o-mini', fallback: true });
  });

  it('falls back after the retries of a retryable failure, in order, until one serves', async () => {
    const { c } = client({ fallbacks: ['gpt-4o-mini', 'gpt-3.5-turbo'] });
    fake.handler = (request) => (modelOf(request.body) === 'gpt-3.5-turbo' ? undefined : { status: 503 });
    const completion = await c.chat.completions.create(chat);
    expect(completion.model).toBe('gpt-3.5-turbo');
    expect(fake.requests.map((r) => modelOf(r.body))).toEqual([
      'gpt-4o',
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4o-mini',
      'gpt-3.5-turbo',
    ]);
  });

  it('does not fall back on a request error, and throws the primary error when every route fails', async () => {
    const { c } = client({ fallbacks: ['gpt-4o-mini'] });
    fake.enqueue({ status: 400, error: { message: 'bad messages' } });
    expect(await failure(c.chat.completions.create(chat))).toMatchObject({ code: 'INVALID_REQUEST', model: 'gpt-4o' });
    expect(fake.requests).toHaveLength(1);
    fake.reset();
    c.breaker('gpt-4o').open();
    fake.handler = () => ({ status: 500 });
    expect(await failure(c.chat.completions.create(chat))).toMatchObject({ code: 'CIRCUIT_OPEN', model: 'gpt-4o' });
    expect(fake.requests.map((r) => modelOf(r.body))).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
  });

  it('routes to another client with its own URL, key and breaker', async () => {
    const other = createOpenAIClient({
      apiKey: BACKUP_KEY,
      baseURL: backup.baseURL,
      organization: 'org-backup',
      maxRetries: 0,
    });
    const { c } = client({ organization: 'org-main', fallbacks: [{ model: 'gpt-4o', client: other }] });
    fake.handler = () => ({ status: 500 });
    const completion = await c.chat.completions.create(chat);
    expect(completion.object).toBe('chat.completion');
    expect(fake.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(1);
    expect(backup.requests[0]).toMatchObject({ path: '/v1/chat/completions', body: chat });
    expect(backup.requests[0]?.headers.authorization).toBe(`Bearer ${BACKUP_KEY}`);
    expect(backup.requests[0]?.headers['openai-organization']).toBe('org-backup');
    expect(other.breakerStats()['gpt-4o']?.totals.successes).toBe(1);
  });
});

describe('response cache', () => {
  function memoryCache() {
    const entries = new Map<string, unknown>();
    const ttls: number[] = [];
    const store: ResponseCacheStore = {
      get: (key) => Promise.resolve(entries.get(key)),
      set: (key, value, { ttl }) => {
        ttls.push(ttl);
        entries.set(key, structuredClone(value));
        return Promise.resolve();
      },
    };
    return { store, entries, ttls };
  }

  it('answers a repeated deterministic request from the cache', async () => {
    const cache = memoryCache();
    const { c, seen } = client({ cache: { store: cache.store, ttlMs: 120_000 } });
    const first = await c.chat.completions.create({ ...chat, temperature: 0 });
    await expect.poll(() => cache.entries.size).toBe(1);
    const second = await c.chat.completions.create({ ...chat, temperature: 0 });
    expect(second).toEqual(first);
    expect(fake.requests).toHaveLength(1);
    expect(seen.cacheHit).toBe(1);
    expect(cache.ttls).toEqual([120]);
    expect([...cache.entries.keys()][0]).toMatch(/^openai:response:[0-9a-f]{64}$/);
    // A different body is a different entry.
    await c.chat.completions.create({ ...chat, temperature: 0, max_completion_tokens: 5 });
    expect(fake.requests).toHaveLength(2);
  });

  it('never caches sampled or streamed requests, nor errors', async () => {
    const cache = memoryCache();
    const { c } = client({ cache: { store: cache.store }, maxRetries: 0 });
    await c.chat.completions.create({ ...chat, temperature: 0.7 });
    await c.chat.completions.create(chat);
    await drain(await c.chat.completions.create({ ...chat, temperature: 0, stream: true }));
    fake.enqueue({ status: 500 });
    expect(await failure(c.chat.completions.create({ ...chat, temperature: 0 }))).toMatchObject({ code: 'UPSTREAM' });
    expect(cache.entries.size).toBe(0);
  });

  it('goes on without the cache when it fails', async () => {
    const failing: ResponseCacheStore = {
      get: () => Promise.reject(new Error('cache down')),
      set: () => Promise.reject(new Error('cache down')),
    };
    const { c } = client({ cache: { store: failing } });
    const errors: string[] = [];
    c.on('storeError', ({ store, message }) => errors.push(`${store}:${message}`));
    await expect(c.chat.completions.create({ ...chat, temperature: 0 })).resolves.toMatchObject({
      object: 'chat.completion',
    });
    await expect.poll(() => errors).toEqual(['cache:cache down', 'cache:cache down']);
  });

  it('rejects a store without get/set', () => {
    expect(() => client({ cache: { store: {} as ResponseCacheStore } })).toThrow(/cache\.store/);
  });
});
