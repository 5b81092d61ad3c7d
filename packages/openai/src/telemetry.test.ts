import { tracerFor, withSpan } from '@infra/core';
import type { FakeOpenAIServer } from '@infra/test-utils';
import { parentOf, useTestTracing, startTestTracing } from '@infra/test-utils/tracing';
import { describe, expect, it } from 'vitest';
import { failure } from '../test/failure.js';
import { useFakeOpenAIServer } from '../test/fake-openai.js';
import { createOpenAIClient, type OpenAIClientOptions } from './index.js';

let fake: FakeOpenAIServer;
useFakeOpenAIServer((server) => (fake = server));

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };
const caller = tracerFor('openai-test');

function client(options: OpenAIClientOptions = {}) {
  return createOpenAIClient({
    apiKey: 'sk-telemetry-test-0123456789abcdef',
    baseURL: fake.baseURL,
    maxRetries: 0,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
}

describe('GenAI spans', () => {
  const tracing = useTestTracing();

  it('records a chat call as a CLIENT span with the request, response and usage attributes', async () => {
    fake.handler = () => ({ usage: { prompt_tokens: 11, completion_tokens: 7 } });
    await withSpan(caller, 'handler', {}, () =>
      client().chat.completions.create({ ...chat, max_completion_tokens: 64, temperature: 0.2 }),
    );
    const [span] = tracing.spansNamed('chat gpt-4o-mini');
    expect(span?.kind).toBe(2);
    expect(parentOf(span!, tracing.spans())?.name).toBe('handler');
    expect(span?.instrumentationScope.name).toBe('@infra/openai');
    expect(span?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 7,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(fake.baseURL).port),
    });
    expect(span?.attributes['gen_ai.response.id']).toMatch(/^chatcmpl-/);
  });

  it('keeps a streaming call open until the stream ends, then records its usage and finish reason', async () => {
    fake.handler = () => ({ usage: { prompt_tokens: 5, completion_tokens: 9 } });
    const stream = await client().chat.completions.create({
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(tracing.spans()).toEqual([]);
    for await (const _chunk of stream) {
      // read to the end
    }
    await expect.poll(() => tracing.spansNamed('chat gpt-4o-mini'), { timeout: 10_000 }).toHaveLength(1);
    const [span] = tracing.spans();
    expect(span?.status.code).toBe(0);
    expect(span?.attributes).toMatchObject({
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 9,
    });
    expect(span?.attributes['gen_ai.response.id']).toMatch(/^chatcmpl-/);
  });

  it('ends a streaming call that the caller stops reading, as an error', async () => {
    fake.handler = () => ({ content: 'one two three four five six seven eight', chunkDelayMs: 20 });
    const stream = await client().chat.completions.create({ ...chat, stream: true });
    for await (const _chunk of stream) break;
    await expect.poll(() => tracing.spansNamed('chat gpt-4o-mini'), { timeout: 10_000 }).toHaveLength(1);
    const [span] = tracing.spans();
    expect(span?.status.code).toBe(2);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
  });

  it('records the retries of a call as events on its one span, and a failed call as an error', async () => {
    let calls = 0;
    fake.handler = () => (++calls === 1 ? { status: 500 } : {});
    await client({ maxRetries: 1 }).chat.completions.create(chat);
    const [span] = tracing.spans();
    expect(tracing.spans()).toHaveLength(1);
    expect(span?.events.map((event) => [event.name, event.attributes?.['error.type']])).toEqual([
      ['retry', 'UPSTREAM'],
    ]);

    tracing.reset();
    fake.handler = () => ({ status: 400, error: { message: 'bad', type: 'invalid_request_error' } });
    expect(await failure(client().chat.completions.create(chat))).toMatchObject({ code: 'INVALID_REQUEST' });
    const [failed] = tracing.spans();
    expect(failed?.status.code).toBe(2);
    expect(failed?.attributes['error.type']).toBe('INVALID_REQUEST');
  });

  it('names embeddings and completions by their operation, and gives other calls no span', async () => {
    const c = client();
    await c.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    await c.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' });
    await c.models.list();
    expect(tracing.spans().map((span) => [span.name, span.attributes['gen_ai.operation.name']])).toEqual([
      ['embeddings text-embedding-3-small', 'embeddings'],
      ['text_completion gpt-3.5-turbo-instruct', 'text_completion'],
    ]);
  });
});

describe('without an SDK', () => {
  it('records nothing, streams included', async () => {
    const tracing = startTestTracing();
    await tracing.stop();
    const c = client();
    await c.chat.completions.create(chat);
    const stream = await c.chat.completions.create({ ...chat, stream: true });
    for await (const _chunk of stream) {
      // read to the end
    }
    expect(tracing.spans()).toEqual([]);
  });
});
