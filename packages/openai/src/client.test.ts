import OpenAI from 'openai';
import type { FakeOpenAIServer } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { createOpenAIClient, isOpenAIClientError, type OpenAIClientOptions } from './index.js';
import { failure } from '../test/failure.js';
import { useFakeOpenAIServer } from '../test/fake-openai.js';
import { toOpenAIClientError } from './to-client-error.js';

const API_KEY = 'sk-client-test-0123456789abcdef';
let fake: FakeOpenAIServer;
useFakeOpenAIServer((server) => (fake = server));

function client(options: OpenAIClientOptions = {}) {
  return createOpenAIClient({
    apiKey: API_KEY,
    baseURL: fake.baseURL,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
}

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };

describe('the SDK surface behind the protection', () => {
  it('runs the documented snippet as written', async () => {
    const openAIClient = createOpenAIClient({
      apiKey: API_KEY,
      organization: 'org-documented',
      maxRetries: 3,
      timeout: 30000,
      baseURL: fake.baseURL,
    });
    const completion = await openAIClient.createCompletion({
      model: 'text-davinci-003',
      prompt: 'Hello, world!',
      max_tokens: 50,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]?.text).toBe('Hello from the fake server.');
    const [request] = fake.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/completions',
      body: { model: 'text-davinci-003', prompt: 'Hello, world!', max_tokens: 50 },
    });
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers['openai-organization']).toBe('org-documented');
  });

  it('keeps chat, streaming, responses, embeddings and models working with their types', async () => {
    const c = client();
    const completion = await c.chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake server.');

    const stream = await c.chat.completions.create({ ...chat, stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe('Hello from the fake server.');

    const response = await c.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(response.output_text).toBe('Hello from the fake server.');
    const events: string[] = [];
    for await (const event of await c.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true }))
      events.push(event.type);
    expect(events.at(0)).toBe('response.created');
    expect(events.at(-1)).toBe('response.completed');

    const embeddings = await c.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b', 'c'] });
    expect(embeddings.data).toHaveLength(3);
    const models = await c.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
    const { data, response: raw } = await c.chat.completions.create(chat).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(raw.headers.get('x-request-id')).toMatch(/^req_fake_/);
  });

  it('retries 5xx and 429 itself, once per attempt, and never lets the SDK retry too', async () => {
    const c = client({ maxRetries: 3 });
    const retries: unknown[] = [];
    c.on('retry', (event) => retries.push(event));
    fake.enqueue({ status: 500 }, { status: 503 }, { status: 429, headers: { 'retry-after-ms': '10' } });
    const completion = await c.chat.completions.create(chat);
    expect(completion.object).toBe('chat.completion');
    expect(fake.requests).toHaveLength(4);
    expect(retries).toEqual([
      expect.objectContaining({
        attempt: 1,
        code: 'UPSTREAM',
        status: 500,
        model: 'gpt-4o-mini',
        endpoint: '/chat/completions',
      }),
      expect.objectContaining({ attempt: 2, code: 'UPSTREAM', status: 503 }),
      expect.objectContaining({ attempt: 3, code: 'RATE_LIMITED', status: 429, delayMs: 10 }),
    ]);
  });

  it('waits as long as retry-after-ms and Retry-After ask before retrying', async () => {
    const c = client({ maxRetries: 2 });
    fake.enqueue(
      { status: 429, headers: { 'retry-after-ms': '250' } },
      { status: 503, headers: { 'retry-after': '1' } },
    );
    await c.chat.completions.create(chat);
    const [first, second, third] = fake.requests.map((r) => r.receivedAt);
    expect(fake.requests).toHaveLength(3);
    expect(second! - first!).toBeGreaterThanOrEqual(249);
    expect(third! - second!).toBeGreaterThanOrEqual(999);
  });

  it('gives up after maxRetries with the last coded error, status and request id', async () => {
    const c = client({ maxRetries: 1 });
    fake.enqueue({ status: 502 }, { status: 500, error: { message: 'still down', type: 'server_error' } });
    const error = await c.chat.completions.create(chat).catch((e: unknown) => toOpenAIClientError(e) ?? e);
    expect(fake.requests).toHaveLength(2);
    expect(isOpenAIClientError(error, 'UPSTREAM')).toBe(true);
    expect(error).toMatchObject({
      status: 500,
      isRetryable: true,
      requestId: expect.stringMatching(/^req_fake_\d+$/),
      upstreamType: 'server_error',
    });
    expect((error as Error).message).toContain('still down');
  });

  it('takes other retries through withOptions and does not wait past maxRetryAfterMs', async () => {
    const c = client({ maxRetries: 5, retry: { initialDelayMs: 5, maxRetryAfterMs: 1000 } });
    fake.enqueue({ status: 500 }, { status: 500 });
    expect(await failure(c.withOptions({ maxRetries: 1 }).chat.completions.create(chat))).toMatchObject({
      code: 'UPSTREAM',
    });
    expect(fake.requests).toHaveLength(2);
    fake.reset();
    fake.enqueue({ status: 429, headers: { 'retry-after': '30' } });
    expect(await failure(c.chat.completions.create(chat))).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: 30_000,
    });
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    [400, 'INVALID_REQUEST'],
    [404, 'INVALID_REQUEST'],
    [422, 'INVALID_REQUEST'],
    [401, 'AUTHENTICATION'],
    [403, 'AUTHENTICATION'],
  ])('does not retry %i and reports %s', async (status, code) => {
    const c = client({ maxRetries: 3 });
    fake.enqueue({
      status,
      error: { message: 'no', type: 'invalid_request_error', code: 'bad_thing', param: 'messages' },
    });
    const error = await c.chat.completions.create(chat).catch((e: unknown) => toOpenAIClientError(e) ?? e);
    expect(error).toMatchObject({ code, status, isRetryable: false, upstreamCode: 'bad_thing', param: 'messages' });
    expect(fake.requests).toHaveLength(1);
  });

  it('marks an exhausted quota as a 429 that is not worth retrying', async () => {
    const c = client({ maxRetries: 3 });
    fake.enqueue({ status: 429, error: { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' } });
    expect(await failure(c.chat.completions.create(chat))).toMatchObject({ code: 'RATE_LIMITED', isRetryable: false });
    expect(fake.requests).toHaveLength(1);
  });

  it('retries a malformed body and a dropped connection as UPSTREAM', async () => {
    const c = client({ maxRetries: 2 });
    fake.enqueue({ rawBody: '{"id": "chatcmpl-1", "choices": [' }, { dropConnection: true });
    const completion = await c.chat.completions.create(chat);
    expect(completion.object).toBe('chat.completion');
    expect(fake.requests).toHaveLength(3);
    fake.reset();
    fake.enqueue({ rawBody: 'not json' }, { rawBody: 'not json' });
    const error = await c
      .withOptions({ maxRetries: 1 })
      .chat.completions.create(chat)
      .catch((e: unknown) => toOpenAIClientError(e) ?? e);
    expect(error).toMatchObject({ code: 'UPSTREAM', isRetryable: true });
    expect((error as Error).message).toContain('malformed JSON');
  });

  it('times out a slow attempt with TIMEOUT and retries it', async () => {
    const c = client({ maxRetries: 1, timeout: 100 });
    fake.enqueue({ delayMs: 400 });
    const completion = await c.chat.completions.create(chat);
    expect(completion.object).toBe('chat.completion');
    expect(fake.requests).toHaveLength(2);
    fake.reset();
    fake.enqueue({ delayMs: 400 });
    expect(await failure(c.withOptions({ maxRetries: 0 }).chat.completions.create(chat))).toMatchObject({
      code: 'TIMEOUT',
      isRetryable: true,
    });
    fake.reset();
    fake.enqueue({ delayMs: 200 });
    const slowButAllowed = await c.withOptions({ timeout: 1000, maxRetries: 0 }).chat.completions.create(chat);
    expect(slowButAllowed.object).toBe('chat.completion');
  });

  it("bounds the whole call, retries included, by a request's own timeout", async () => {
    const c = client({ maxRetries: 5, timeout: 10_000, retry: { initialDelayMs: 400, jitter: 'none' } });
    fake.enqueue(...Array.from({ length: 6 }, () => ({ status: 500 })));
    const error = await c.chat.completions.create(chat, { timeout: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(toOpenAIClientError(error)).toMatchObject({ code: 'TIMEOUT' });
    expect(fake.requests.length).toBeLessThan(6);
  });

  it('closes idempotently, through asyncDispose too, and rejects a bad close option', async () => {
    const c = client({ rateLimit: { requestsPerMinute: 5 } });
    await expect(c.close({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'timeoutMs' });
    await c.close();
    await c[Symbol.asyncDispose]();
    await c.close({ timeoutMs: 100 });
  });

  it('reports usage with latency and an estimated cost', async () => {
    const c = client();
    const usage: unknown[] = [];
    const requests: unknown[] = [];
    c.on('usage', (event) => usage.push(event));
    c.on('request', (event) => requests.push(event));
    fake.enqueue({ usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    await c.chat.completions.create(chat);
    expect(requests).toEqual([{ model: 'gpt-4o-mini', endpoint: '/chat/completions', attempt: 1 }]);
    expect(usage).toEqual([
      expect.objectContaining({
        model: 'gpt-4o-mini',
        endpoint: '/chat/completions',
        promptTokens: 1000,
        completionTokens: 500,
        totalTokens: 1500,
        // gpt-4o-mini: $0.15 in, $0.60 out per 1M tokens
        costUsd: 0.00045,
        estimated: false,
        fallback: false,
      }),
    ]);
    expect((usage[0] as { latencyMs: number }).latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('rejects bad options with INVALID_OPTION naming the option', () => {
    expect(() => client({ maxRetries: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'maxRetries' }),
    );
    expect(() => client({ timeout: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'timeout' }),
    );
    expect(() => client({ retry: { jitter: 'wild' as never } })).toThrow(/retry\.jitter/);
    expect(() => client({ fallbacks: [{ model: '' }] })).toThrow(/fallbacks\[0\]/);
    expect(() => client({ fallbacks: [{ model: 'm', client: {} }] })).toThrow(/fallbacks\[0\]\.client/);
    expect(() => client({ rateLimit: { requestsPerMinute: 1.5 } })).toThrow(/rateLimit\.requestsPerMinute/);
    expect(() => client({ prices: { x: { input: -1, output: 1 } } })).toThrow(/prices\.x/);
    expect(() => client({ timeoutMs: 0.5 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'timeoutMs' }),
    );
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(() => createOpenAIClient({ baseURL: fake.baseURL })).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG', variable: 'apiKey' }),
      );
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});
