import type { FakeOpenAIServer } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiterStore } from '@infra/resilience';
import { createOpenAIClient, toOpenAIClientError, type OpenAIClientOptions } from '../index.js';
import { failure } from '../../test/failure.js';
import { useFakeOpenAIServer } from '../../test/fake-openai.js';

const API_KEY = 'sk-limit-test-0123456789abcdef';
let fake: FakeOpenAIServer;
useFakeOpenAIServer((server) => (fake = server));

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };

function client(options: OpenAIClientOptions) {
  return createOpenAIClient({ apiKey: API_KEY, baseURL: fake.baseURL, maxRetries: 0, ...options });
}

async function settleAll<T>(calls: Promise<T>[]) {
  const results = await Promise.allSettled(calls);
  const rejected = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => (toOpenAIClientError(r.reason) ?? r.reason) as unknown as Record<string, unknown>);
  return { fulfilled: results.length - rejected.length, rejected };
}

describe('client-side RPM/TPM limiter', () => {
  it('admits exactly the RPM limit out of 50 concurrent calls and refuses the rest with RATE_LIMITED', async () => {
    const c = client({ rateLimit: { requestsPerMinute: 10, maxWaitMs: 0 } });
    let limited = 0;
    c.on('rateLimited', ({ scope, waiting }) => {
      if (scope === 'requests' && !waiting) limited++;
    });
    const { fulfilled, rejected } = await settleAll(Array.from({ length: 50 }, () => c.chat.completions.create(chat)));
    expect(fulfilled).toBe(10);
    expect(fake.requests).toHaveLength(10);
    expect(rejected).toHaveLength(40);
    for (const error of rejected) {
      expect(error).toMatchObject({
        code: 'RATE_LIMITED',
        status: undefined,
        model: 'gpt-4o-mini',
        endpoint: '/chat/completions',
      });
      expect(error.retryAfterMs).toBeGreaterThan(0);
    }
    expect(limited).toBe(40);
  });

  it('holds the TPM limit under 50 concurrent calls and corrects the estimate from usage', async () => {
    // Each call reserves its prompt (about 10 tokens) plus max_completion_tokens: 200; 1000 TPM admit 4 of them.
    const c = client({ rateLimit: { tokensPerMinute: 1000, maxWaitMs: 0 } });
    fake.handler = () => ({ usage: { prompt_tokens: 8, completion_tokens: 2 } });
    const call = () => c.chat.completions.create({ ...chat, max_completion_tokens: 200 });
    const first = await settleAll(Array.from({ length: 50 }, call));
    expect(first.fulfilled).toBe(4);
    expect(first.rejected.every((e) => e.code === 'RATE_LIMITED')).toBe(true);
    // The 4 calls used 10 tokens each: 960 are left, enough for 4 more reservations, not 5.
    // Without the correction, 164 would be left and none would pass.
    const second = await settleAll(Array.from({ length: 50 }, call));
    expect(second.fulfilled).toBe(4);
    expect(fake.requests).toHaveLength(8);
  });

  it('waits for budget (bounded) and spaces calls as the bucket refills', async () => {
    const c = client({ rateLimit: { requestsPerMinute: 5, windowMs: 1000, maxWaitMs: 5000 } });
    let waits = 0;
    c.on('rateLimited', ({ waiting }) => {
      if (waiting) waits++;
    });
    const started = Date.now();
    const { fulfilled } = await settleAll(Array.from({ length: 12 }, () => c.chat.completions.create(chat)));
    expect(fulfilled).toBe(12);
    expect(waits).toBeGreaterThan(0);
    const arrivals = fake.requests.map((r) => r.receivedAt - started).sort((a, b) => a - b);
    // A burst of 5, then one per 200 ms: call k (0-based) cannot start before (k - 4) × 200 ms.
    arrivals.forEach((at, k) => {
      expect(at).toBeGreaterThanOrEqual(Math.max(0, (k - 4) * 200) - 2);
    });
  });

  it('fails at once when the wait would pass maxWaitMs, and the caller abort ends a wait', async () => {
    const c = client({ rateLimit: { requestsPerMinute: 1, maxWaitMs: 100 } });
    await c.chat.completions.create(chat);
    expect(await failure(c.chat.completions.create(chat))).toMatchObject({ code: 'RATE_LIMITED' });
    const waiting = client({ rateLimit: { requestsPerMinute: 1, windowMs: 10_000, maxWaitMs: 20_000 } });
    await waiting.chat.completions.create(chat);
    const controller = new AbortController();
    const pending = waiting.chat.completions.create(chat, { signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 50);
    const aborted = await pending.catch((e: unknown) => toOpenAIClientError(e) ?? e);
    expect(toOpenAIClientError(aborted)?.code).toBe('ABORTED');
    expect(fake.requests).toHaveLength(2);
  });

  it('shares one budget between clients that use the same store and key', async () => {
    const store = new MemoryRateLimiterStore();
    const a = client({ name: 'a', rateLimit: { requestsPerMinute: 6, maxWaitMs: 0, store, key: 'team' } });
    const b = client({ name: 'b', rateLimit: { requestsPerMinute: 6, maxWaitMs: 0, store, key: 'team' } });
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).chat.completions.create(chat));
    expect((await settleAll(calls)).fulfilled).toBe(6);
    await a.close();
    await b.close();
  });

  it('gives the request back when the token budget refuses the call', async () => {
    const store = new MemoryRateLimiterStore();
    const c = client({ rateLimit: { requestsPerMinute: 2, tokensPerMinute: 300, maxWaitMs: 0, store, key: 'both' } });
    fake.handler = () => ({ usage: { prompt_tokens: 10, completion_tokens: 250 } });
    await c.chat.completions.create({ ...chat, max_completion_tokens: 250 });
    const refused = await settleAll([c.chat.completions.create({ ...chat, max_completion_tokens: 250 })]);
    expect(refused.rejected[0]).toMatchObject({ code: 'RATE_LIMITED' });
    // The refused call took no request: the second request of the minute is still there.
    expect(
      (await store.consume('both:requests', { algorithm: 'token-bucket', limit: 2, windowMs: 60_000 }, 1)).allowed,
    ).toBe(true);
    await c.close();
  });
});
