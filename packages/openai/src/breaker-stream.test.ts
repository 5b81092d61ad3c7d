import OpenAI from 'openai';
import type { FakeOpenAIServer } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { createOpenAIClient, type OpenAIClientEvents, type OpenAIClientOptions } from './index.js';
import { failure } from '../test/failure.js';
import { useFakeOpenAIServer } from '../test/fake-openai.js';
import { toOpenAIClientError } from './to-client-error.js';

/** Reads a stream to its end. */
async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _item of stream) count++;
  return count;
}

const API_KEY = 'sk-breaker-test-0123456789abcdef';
let fake: FakeOpenAIServer;
useFakeOpenAIServer((server) => (fake = server));

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };
const longText = Array.from({ length: 40 }, (_, i) => `word${i} `).join('');

function setup(options: OpenAIClientOptions = {}) {
  const clock = { now: 1_000_000 };
  const client = createOpenAIClient({
    apiKey: API_KEY,
    baseURL: fake.baseURL,
    maxRetries: 0,
    retry: { initialDelayMs: 5 },
    breaker: { consecutiveFailures: 3, resetTimeout: 10_000, now: () => clock.now },
    ...options,
  });
  const seen: { [K in keyof OpenAIClientEvents]?: OpenAIClientEvents[K][] } = {};
  for (const name of ['error', 'breakerStateChange', 'usage', 'retry'] as const) {
    client.on(name, (payload) => ((seen[name] ??= []) as unknown[]).push(payload));
  }
  return { client, clock, seen };
}

describe('circuit breaker per model', () => {
  it('opens after the threshold, answers CIRCUIT_OPEN without calling, and half-opens later', async () => {
    const { client, clock, seen } = setup();
    fake.handler = () => ({ status: 500 });
    for (let i = 0; i < 3; i++)
      expect(await failure(client.chat.completions.create(chat))).toMatchObject({ code: 'UPSTREAM' });
    expect(client.breaker('gpt-4o-mini').state).toBe('open');

    // The documented handling of an open circuit.
    const fallbackResponse = () => 'fallback';
    const outcome = await client
      .createCompletion({ model: 'gpt-4o-mini', prompt: 'Hello, world!', max_tokens: 50 })
      .then(() => 'called')
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === 'CIRCUIT_OPEN') return fallbackResponse();
        throw error;
      });
    expect(outcome).toBe('fallback');
    // The SDK's own error class for the status, with this package's code.
    const raw = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(raw).toBeInstanceOf(OpenAI.InternalServerError);
    expect(raw).toMatchObject({ status: 503, code: 'CIRCUIT_OPEN' });
    const rejected = toOpenAIClientError(raw);
    expect(rejected).toMatchObject({
      code: 'CIRCUIT_OPEN',
      isRetryable: true,
      model: 'gpt-4o-mini',
      endpoint: '/chat/completions',
    });
    expect((rejected as { retryAfterMs: number }).retryAfterMs).toBe(10_000);
    expect(fake.requests).toHaveLength(3);

    // Other models have their own breaker.
    fake.handler = undefined;
    await expect(client.chat.completions.create({ ...chat, model: 'gpt-4o' })).resolves.toMatchObject({
      object: 'chat.completion',
    });

    clock.now += 10_000;
    await expect(client.chat.completions.create(chat)).resolves.toMatchObject({ object: 'chat.completion' });
    expect(client.breaker('gpt-4o-mini').state).toBe('closed');
    expect(seen.breakerStateChange?.map(({ model, from, to }) => `${model}:${from}>${to}`)).toEqual([
      'gpt-4o-mini:closed>open',
      'gpt-4o-mini:open>half-open',
      'gpt-4o-mini:half-open>closed',
    ]);
    expect(seen.error?.map((e) => e.code)).toEqual([
      'UPSTREAM',
      'UPSTREAM',
      'UPSTREAM',
      'CIRCUIT_OPEN',
      'CIRCUIT_OPEN',
    ]);
  });

  it('re-opens when the half-open probe fails', async () => {
    const { client, clock } = setup();
    client.breaker('gpt-4o-mini').open();
    clock.now += 10_000;
    fake.enqueue({ status: 503 });
    expect(await failure(client.chat.completions.create(chat))).toMatchObject({ code: 'UPSTREAM' });
    expect(client.breaker('gpt-4o-mini').state).toBe('open');
  });

  it('counts neither rate limits nor bad requests as failures, but counts timeouts, 408 and 409', async () => {
    const { client } = setup({ timeout: 250 });
    fake.enqueue(
      { status: 429, headers: { 'retry-after-ms': '1' } },
      { status: 429 },
      { status: 400 },
      { status: 401 },
      { status: 404 },
      { status: 422 },
    );
    for (let i = 0; i < 6; i++) expect(await failure(client.chat.completions.create(chat))).toBeDefined();
    expect(client.breakerStats()['gpt-4o-mini']).toMatchObject({
      state: 'closed',
      totals: { failures: 0, successes: 6 },
    });
    fake.enqueue({ status: 408 }, { status: 409 }, { delayMs: 1000 });
    for (let i = 0; i < 3; i++) expect(await failure(client.chat.completions.create(chat))).toBeDefined();
    expect(client.breakerStats()['gpt-4o-mini']).toMatchObject({ state: 'open', totals: { failures: 3 } });
  });
});

describe('streaming', () => {
  it('reports a stream cut mid-way once, as a breaker failure, without retrying it', async () => {
    const { client, seen } = setup({ maxRetries: 3, breaker: { consecutiveFailures: 1, resetTimeout: 10_000 } });
    fake.enqueue({ content: longText, breakAfterChunks: 5 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    const received: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => toOpenAIClientError(e) ?? e);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(10);
    expect(error).toMatchObject({ code: 'UPSTREAM', model: 'gpt-4o-mini', endpoint: '/chat/completions' });
    await expect.poll(() => seen.error?.length).toBe(1);
    expect(seen.error?.[0]).toMatchObject({ code: 'UPSTREAM', endpoint: '/chat/completions' });
    expect(client.breaker('gpt-4o-mini').state).toBe('open');
    expect(fake.requests).toHaveLength(1);
    expect(seen.retry).toBeUndefined();
  });

  it('fails a stream that goes silent longer than the timeout with TIMEOUT', async () => {
    const { client, seen } = setup({ timeout: 150 });
    fake.enqueue({ content: longText, chunkDelayMs: 600 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    const error = await (async () => {
      await drain(stream);
    })().catch((e: unknown) => toOpenAIClientError(e) ?? e);
    expect(error).toMatchObject({ code: 'TIMEOUT', isRetryable: true });
    await expect.poll(() => seen.error?.map((e) => e.code)).toEqual(['TIMEOUT']);
    await expect.poll(() => fake.requests[0]?.closedEarly).toBe(true);
  });

  it('reports streamed usage when the stream includes it, and estimates it otherwise', async () => {
    const { client, seen } = setup();
    fake.enqueue({ usage: { prompt_tokens: 11, completion_tokens: 7 } });
    const withUsage = await client.chat.completions.create({
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    });
    await drain(withUsage);
    const without = await client.chat.completions.create({ ...chat, stream: true });
    await drain(without);
    await expect.poll(() => seen.usage?.length).toBe(2);
    expect(seen.usage?.[0]).toMatchObject({ promptTokens: 11, completionTokens: 7, totalTokens: 18, estimated: false });
    // Six content deltas ("Hello ", "from ", ...) plus the empty role and finish deltas.
    expect(seen.usage?.[1]).toMatchObject({ estimated: true, completionTokens: 7 });
  });

  it('fails a stream that ends cleanly before its end marker', async () => {
    const { client, seen } = setup();
    fake.enqueue({ omitEndMarker: true });
    const stream = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'x', stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    })().catch((e: unknown) => toOpenAIClientError(e) ?? e);
    expect(text).toBe('Hello from the fake server.');
    expect(error).toMatchObject({ code: 'UPSTREAM', endpoint: '/completions' });
    expect((error as Error).message).toContain('end marker');
    await expect.poll(() => seen.error?.length).toBe(1);
  });
});

describe('aborts', () => {
  it('rejects with ABORTED for a signal aborted before the call, and sends nothing', async () => {
    const { client } = setup();
    expect(await failure(client.chat.completions.create(chat, { signal: AbortSignal.abort() }))).toMatchObject({
      code: 'ABORTED',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('stops a slow call at once, closes the connection and does not count a breaker failure', async () => {
    const { client, seen } = setup({ breaker: { consecutiveFailures: 1 } });
    fake.enqueue({ delayMs: 5_000 });
    const controller = new AbortController();
    const pending = client.chat.completions.create(chat, { signal: controller.signal });
    await expect.poll(() => fake.requests.length).toBe(1);
    controller.abort(new Error('user left'));
    expect(await failure(pending)).toMatchObject({ code: 'ABORTED' });
    await expect.poll(() => fake.requests[0]?.closedEarly).toBe(true);
    expect(client.breaker('gpt-4o-mini').state).toBe('closed');
    expect(seen.error?.map((e) => e.code)).toEqual(['ABORTED']);
  });

  it('stops waiting for a retry when the caller aborts', async () => {
    const { client } = setup({ maxRetries: 3 });
    fake.enqueue({ status: 429, headers: { 'retry-after': '20' } });
    const controller = new AbortController();
    const pending = client.chat.completions.create(chat, { signal: controller.signal });
    await expect.poll(() => fake.requests.length).toBe(1);
    controller.abort();
    expect(await failure(pending)).toMatchObject({ code: 'ABORTED' });
    expect(fake.requests).toHaveLength(1);
  });

  it('stops a stream mid-way on the caller abort, quietly, without a breaker failure', async () => {
    const { client, seen } = setup({ breaker: { consecutiveFailures: 1 } });
    fake.enqueue({ content: longText, chunkDelayMs: 30 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ ...chat, stream: true }, { signal: controller.signal });
    let received = 0;
    for await (const _chunk of stream) {
      if (++received === 3) controller.abort();
    }
    expect(received).toBe(3);
    await expect.poll(() => fake.requests[0]?.closedEarly).toBe(true);
    expect(client.breaker('gpt-4o-mini').state).toBe('closed');
    expect(seen.error).toBeUndefined();

    fake.enqueue({ content: longText, chunkDelayMs: 30 });
    const second = await client.chat.completions.create({ ...chat, stream: true });
    received = 0;
    for await (const _chunk of second) {
      if (++received === 2) second.controller.abort();
    }
    expect(received).toBe(2);
    await expect.poll(() => fake.requests[1]?.closedEarly).toBe(true);
    expect(client.breaker('gpt-4o-mini').state).toBe('closed');
  });
});
