import { startFakeOpenAIServer, type FakeOpenAIServer } from '@infra/test-utils';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { preloadTokenizer } from '../src/index.js';

/**
 * The fake OpenAI server of a test file: started (with the gpt-4o-mini tokenizer loaded) before its
 * tests, handed to `use`, reset after each test and closed after the last.
 */
export function useFakeOpenAIServer(use: (server: FakeOpenAIServer) => void): void {
  let server: FakeOpenAIServer | undefined;
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
    use(server);
    await preloadTokenizer('gpt-4o-mini');
  });
  afterEach(() => {
    server?.reset();
  });
  afterAll(async () => {
    await server?.close();
  });
}
