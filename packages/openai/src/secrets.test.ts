import { inspect } from 'node:util';
import { closedPort, startFakeOpenAIServer, type FakeOpenAIServer } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFactory, createOpenAIClient, type OpenAIClientEventName } from './index.js';
import { toOpenAIClientError } from './to-client-error.js';

/** Reads a stream to its end. */
async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _item of stream) count++;
  return count;
}

const API_KEY = 'sk-proj-SECRETsecret0123456789abcdefXYZ';
let fake: FakeOpenAIServer;

beforeAll(async () => {
  fake = await startFakeOpenAIServer();
});
afterAll(async () => {
  await fake.close();
});

const EVENTS: OpenAIClientEventName[] = [
  'request',
  'usage',
  'error',
  'retry',
  'breakerStateChange',
  'rateLimited',
  'fallback',
  'cacheHit',
  'storeError',
];

/** Everything a caller could print: messages, stacks, causes, JSON and inspect output. */
function everything(value: unknown): string {
  const parts = [inspect(value, { depth: 10, showHidden: true })];
  try {
    parts.push(JSON.stringify(value));
  } catch {
    // Circular: inspect covered it.
  }
  for (let error = value; error instanceof Error; error = error.cause) parts.push(error.message, error.stack ?? '');
  return parts.join('\n');
}

describe('the API key never leaks', () => {
  it('stays out of errors, events and SDK logs, even when the server quotes it', async () => {
    const logs: unknown[] = [];
    const logger = {
      debug: (...args: unknown[]) => logs.push(args),
      info: (...args: unknown[]) => logs.push(args),
      warn: (...args: unknown[]) => logs.push(args),
      error: (...args: unknown[]) => logs.push(args),
    };
    const port = await closedPort();
    const down = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: `http://127.0.0.1:${port}/v1`,
      maxRetries: 1,
      retry: { initialDelayMs: 1 },
      logger,
      logLevel: 'debug',
    });
    const client = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: fake.baseURL,
      maxRetries: 1,
      retry: { initialDelayMs: 1 },
      breaker: { consecutiveFailures: 2 },
      rateLimit: { requestsPerMinute: 100, tokensPerMinute: 100_000 },
      fallbacks: ['gpt-4o'],
      logger,
      logLevel: 'debug',
    });
    const events: unknown[] = [];
    for (const name of EVENTS) {
      client.on(name, (payload) => events.push({ name, payload }));
      down.on(name, (payload) => events.push({ name, payload }));
    }
    fake.handler = (request) => {
      if ((request.body as { model?: string } | undefined)?.model === 'gpt-4o-mini') {
        return {
          status: 401,
          error: {
            message: `Incorrect API key provided: ${API_KEY}. Find your key at ...`,
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        };
      }
      return { status: 500, error: { message: `upstream saw ${API_KEY}` } };
    };
    const errors: unknown[] = [];
    const chat = (model: string) =>
      client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    errors.push(await chat('gpt-4o-mini').catch((e: unknown) => toOpenAIClientError(e) ?? e));
    errors.push(await chat('gpt-4o').catch((e: unknown) => toOpenAIClientError(e) ?? e));
    errors.push(await chat('gpt-4o').catch((e: unknown) => toOpenAIClientError(e) ?? e));
    errors.push(await down.models.list().catch((e: unknown) => toOpenAIClientError(e) ?? e));
    const stream = await (async () => {
      fake.handler = () => ({ breakAfterChunks: 2 });
      const s = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      await drain(s);
    })().catch((e: unknown) => toOpenAIClientError(e) ?? e);
    errors.push(stream);
    errors.push(await client.healthCheck());

    expect(errors[0]).toMatchObject({ code: 'AUTHENTICATION', status: 401, upstreamCode: 'invalid_api_key' });
    expect((errors[0] as Error).message).toContain('Incorrect API key provided: [redacted]');
    expect(errors[3]).toMatchObject({ code: 'UPSTREAM' });
    expect(events.length).toBeGreaterThan(5);
    expect(logs.length).toBeGreaterThan(0);
    for (const item of [...errors, ...events, ...logs]) expect(everything(item)).not.toContain(API_KEY);
    expect(everything(errors)).not.toMatch(/SECRETsecret/);
    fake.handler = undefined;
    fake.reset();
  });

  it('stays out of a config built from the environment, and out of its validation errors', () => {
    const config = configFactory.fromEnv({ OPENAI_API_KEY: API_KEY, OPENAI_TIMEOUT_MS: '5000' });
    expect(config.apiKey).toBe(API_KEY);
    expect(JSON.stringify(config)).not.toContain(API_KEY);
    expect(inspect(config)).not.toContain(API_KEY);
    expect(JSON.stringify(config)).toContain('[redacted]');
    const bad = (() => {
      try {
        configFactory.fromEnv({ OPENAI_API_KEY: `${API_KEY} trailing` });
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(bad).toMatchObject({ code: 'INVALID_CONFIG', variable: 'OPENAI_API_KEY' });
    expect(everything(bad)).not.toContain(API_KEY);
  });
});
