import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, PriceTable, encodingForModel } from './index.js';
import { estimatePromptTokens, reservedCompletionTokens, tokenCounter } from './tokens.js';

describe('token estimates', () => {
  it('picks the encoding of each model family', () => {
    expect(encodingForModel('gpt-4o-mini-2024-07-18')).toBe('o200k_base');
    expect(encodingForModel('gpt-4.1')).toBe('o200k_base');
    expect(encodingForModel('o3-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-4-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingForModel('text-embedding-3-small')).toBe('cl100k_base');
    expect(encodingForModel('text-davinci-003')).toBe('p50k_base');
    expect(encodingForModel('some-future-model')).toBe('o200k_base');
  });

  it('counts with the real BPE tokenizer, not a character heuristic', async () => {
    const o200k = await tokenCounter('o200k_base');
    const cl100k = await tokenCounter('cl100k_base');
    expect(o200k('Hello, world!')).toBe(4);
    expect(cl100k('Hello, world!')).toBe(4);
    // 40 characters, 1 token each way: a 4-characters-a-token guess would say 10.
    expect(o200k('a'.repeat(40))).toBeLessThan(10);
    expect(o200k('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('estimates chat, completion, embedding and Responses prompts', async () => {
    const count = await tokenCounter('o200k_base');
    const messages = [
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        name: 'ann',
        content: [
          { type: 'text', text: 'Hello, world!' },
          { type: 'image_url', image_url: { url: 'data:...' } },
        ],
      },
    ];
    const expected =
      3 +
      (3 + count('system') + count('You are terse.')) +
      (3 + count('user') + 1 + count('ann') + count('Hello, world!') + 85);
    expect(estimatePromptTokens('/chat/completions', { messages }, count)).toBe(expected);
    expect(estimatePromptTokens('/completions', { prompt: ['Hello, world!', 'Hello, world!'] }, count)).toBe(8);
    expect(estimatePromptTokens('/embeddings', { input: [[1, 2, 3], 'Hello, world!'] }, count)).toBe(7);
    const input = [{ role: 'user', content: [{ type: 'input_text', text: 'Hello, world!' }] }];
    expect(estimatePromptTokens('/responses', { input, instructions: 'Be brief' }, count)).toBe(4 + count('Be brief'));
  });

  it('reserves the requested completion budget, times n, or the default', () => {
    expect(reservedCompletionTokens('/chat/completions', { max_completion_tokens: 100, n: 3 }, 256)).toBe(300);
    expect(reservedCompletionTokens('/completions', { max_tokens: 50 }, 256)).toBe(50);
    expect(reservedCompletionTokens('/responses', { max_output_tokens: 70 }, 256)).toBe(70);
    expect(reservedCompletionTokens('/chat/completions', {}, 256)).toBe(256);
    expect(reservedCompletionTokens('/embeddings', { max_tokens: 50 }, 256)).toBe(0);
  });
});

describe('price table', () => {
  it('prices by exact name or longest prefix, with overrides', () => {
    const table = new PriceTable({ 'my-ft-model': { input: 1, output: 2 }, 'gpt-4o': { input: 5, output: 15 } });
    expect(table.lookup('gpt-4o-mini-2024-07-18')).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
    expect(table.lookup('gpt-4o-2024-08-06')).toEqual({ input: 5, output: 15 });
    expect(table.lookup('gpt-4-0613')).toEqual(DEFAULT_PRICES['gpt-4']);
    expect(table.cost('my-ft-model', 1_000_000, 500_000)).toBe(2);
    expect(table.cost('unknown-model', 1000, 1000)).toBe(0);
  });
});
