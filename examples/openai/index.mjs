// A protected OpenAI client from @infra/openai, run against a small local stand-in for the OpenAI
// API (no key, no network): the first call succeeds, then the API goes down, the circuit opens and
// the caller serves a fallback without waiting on a dead service.
import { createServer } from 'node:http';
import { createOpenAIClient, toOpenAIClientError } from '@infra/openai';

// The stand-in: answers the legacy completions endpoint while `up`, and 503 afterwards.
let up = true;
let requests = 0;
const api = createServer((req, res) => {
  requests += 1;
  req.resume();
  if (!up) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"down"}}');
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: 'cmpl-1',
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ index: 0, text: ' Hello to you too!', finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 },
    }),
  );
});
await new Promise((resolve) => api.listen(0, '127.0.0.1', () => resolve(undefined)));
const address = /** @type {import('node:net').AddressInfo} */ (api.address());

const config = {
  openai: {
    apiKey: process.env.OPENAI_API_KEY ?? 'sk-local-example',
    organization: process.env.OPENAI_ORG_ID ?? 'org-example',
    baseURL: `http://127.0.0.1:${address.port}/v1`,
  },
};
const fallbackResponse = () => ({ text: 'Our assistant is busy; here is a saved answer.' });

const openAIClient = createOpenAIClient({
  apiKey: config.openai.apiKey,
  organization: config.openai.organization,
  baseURL: config.openai.baseURL,
  maxRetries: 1,
  timeout: 30000,
  retry: { initialDelayMs: 10, maxDelayMs: 20 },
  breaker: { failureThreshold: 0.5, minimumThroughput: 2, resetTimeoutMs: 60_000 },
});

/** @param {string} prompt */
async function complete(prompt) {
  // Using the client with circuit breaker protection
  try {
    const completion = await openAIClient.createCompletion({
      model: 'gpt-3.5-turbo-instruct',
      prompt,
      max_tokens: 50,
    });
    return { text: completion.choices[0]?.text.trim() ?? '' };
  } catch (error) {
    // A failed call rejects with the SDK's own error class, its `code` set to this package's code;
    // toOpenAIClientError gives the coded error with its fields (retryAfterMs, model, ...).
    if (toOpenAIClientError(error)?.code === 'CIRCUIT_OPEN') {
      // Circuit breaker is open, use fallback
      return fallbackResponse();
    }
    // Handle other errors
    throw error;
  }
}

console.log(await complete('Hello, world!'));
up = false;
for (let call = 1; call <= 4; call += 1) {
  try {
    console.log(await complete('Hello again'));
  } catch (error) {
    console.log('failed:', toOpenAIClientError(error)?.code ?? error);
  }
}
console.log(`the API saw ${requests} requests`);
api.close();
