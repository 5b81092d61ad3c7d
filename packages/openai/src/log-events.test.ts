import { recordingLogger, type FakeOpenAIServer } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { createOpenAIClient } from './index.js';
import { useFakeOpenAIServer } from '../test/fake-openai.js';

const API_KEY = 'sk-logger-test-0123456789abcdef';
let fake: FakeOpenAIServer;
useFakeOpenAIServer((server) => (fake = server));

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };

describe('logger option', () => {
  it('logs each retry as warn and a call failed for good as error, through the real SDK', async () => {
    const logger = recordingLogger();
    const client = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: fake.baseURL,
      maxRetries: 1,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
      logger,
    });
    fake.enqueue({ status: 500 }, { status: 503 });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 503 });
    const ours = logger.lines.filter((line) => line.fields.endpoint === '/chat/completions');
    expect(ours.map((line) => [line.level, line.fields.code, line.fields.status])).toEqual([
      ['warn', 'UPSTREAM', 500],
      ['error', 'UPSTREAM', 503],
    ]);
    // Nothing of the request (the key above all) reaches the lines.
    expect(JSON.stringify(logger.lines)).not.toContain(API_KEY);
  });

  it('refuses a logger without the four methods, naming the option', () => {
    expect(() =>
      createOpenAIClient({ apiKey: API_KEY, baseURL: fake.baseURL, logger: { info() {} } as never }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'logger' }));
  });
});
