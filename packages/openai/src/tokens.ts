/**
 * Token estimates for the rate limiter, from the prompt, with the `gpt-tokenizer` package's real
 * BPE encodings. An encoding is loaded on first use (it takes a few hundred ms and tens of MB),
 * once per process; `preloadTokenizer()` moves that cost to start-up.
 */
export type EncodingName = 'o200k_base' | 'cl100k_base' | 'p50k_base' | 'r50k_base';

/** Counts the tokens of a text. */
export type TokenCount = (text: string) => number;

/** Tokens charged for an image or audio part, whose real cost depends on its size: low-detail image. */
const MEDIA_PART_TOKENS = 85;

/** Encoding of a model family; unknown models get the newest (o200k_base). */
export function encodingForModel(model: string | undefined): EncodingName {
  if (!model) return 'o200k_base';
  if (/^(gpt-4o|gpt-4\.[1-9]|gpt-5|gpt-oss|chatgpt-4o|o[1-9])/.test(model)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|gpt-35|text-embedding-|davinci-002|babbage-002)/.test(model)) return 'cl100k_base';
  if (/^(text-davinci-00[23]|code-)/.test(model)) return 'p50k_base';
  if (/^(davinci|curie|babbage|ada|text-(ada|babbage|curie|davinci)-001)/.test(model)) return 'r50k_base';
  return 'o200k_base';
}

const counters = new Map<EncodingName, Promise<TokenCount>>();

/** Rough fallback (4 characters a token) for the unlikely case the tokenizer fails to load. */
const approximate: TokenCount = (text) => Math.ceil(text.length / 4);

/** Loads (once) the token counter of `encoding`. */
export function tokenCounter(encoding: EncodingName): Promise<TokenCount> {
  let pending = counters.get(encoding);
  if (!pending) {
    pending = load(encoding).then(
      (mod) => {
        // Special-token text in a prompt is ordinary text to the API: count it, do not throw.
        const options = { disallowedSpecial: new Set<string>() };
        return (text: string) => mod.countTokens(text, options);
      },
      () => approximate,
    );
    counters.set(encoding, pending);
  }
  return pending;
}

function load(encoding: EncodingName) {
  // One literal specifier per encoding, so that bundlers can see every module that may be loaded.
  switch (encoding) {
    case 'o200k_base':
      return import('gpt-tokenizer/encoding/o200k_base');
    case 'cl100k_base':
      return import('gpt-tokenizer/encoding/cl100k_base');
    case 'p50k_base':
      return import('gpt-tokenizer/encoding/p50k_base');
    case 'r50k_base':
      return import('gpt-tokenizer/encoding/r50k_base');
  }
}

/** Loads the tokenizer that `model` needs now rather than on its first call. */
export async function preloadTokenizer(model?: string): Promise<void> {
  await tokenCounter(encodingForModel(model));
}

/** Counts the tokens of a prompt-like value: a string, token ids, or arrays of either. */
function countPrompt(value: unknown, count: TokenCount): number {
  if (typeof value === 'string') return count(value);
  if (typeof value === 'number') return 1;
  if (!Array.isArray(value)) return 0;
  let total = 0;
  for (const item of value) total += countPrompt(item, count);
  return total;
}

const SKIPPED_KEYS = new Set(['type', 'role', 'id', 'call_id', 'detail', 'format', 'file_id', 'status']);

/**
 * Counts the text inside message content, tool calls or Responses API input items, whatever their
 * shape: every string counts, except identifiers; media parts cost a fixed estimate.
 */
function countContent(value: unknown, count: TokenCount, depth = 0): number {
  if (typeof value === 'string') return count(value);
  if (typeof value !== 'object' || value === null || depth > 12) return 0;
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) total += countContent(item, count, depth + 1);
    return total;
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type === 'string' && /image|audio|file/.test(type)) return MEDIA_PART_TOKENS;
  return countFields(record, count, depth, false);
}

/** The fields of an object, except identifiers (and a message's role and name, when `message`). */
function countFields(record: Record<string, unknown>, count: TokenCount, depth: number, message: boolean): number {
  let total = 0;
  for (const [key, value] of Object.entries(record)) {
    if (SKIPPED_KEYS.has(key) || (message && key === 'name')) continue;
    total += countContent(value, count, depth + 1);
  }
  return total;
}

/** Prompt tokens of a chat request, after OpenAI's accounting: 3 per message, 3 to prime the reply. */
function countMessages(messages: unknown[], count: TokenCount): number {
  let total = 3;
  for (const message of messages) {
    total += 3;
    if (typeof message !== 'object' || message === null) continue;
    const record = message as Record<string, unknown>;
    const { role, name } = record;
    if (typeof role === 'string') total += count(role);
    if (typeof name === 'string') total += 1 + count(name);
    total += countFields(record, count, 0, true);
  }
  return total;
}

/** Estimated prompt tokens of a request body sent to `endpoint`. */
export function estimatePromptTokens(endpoint: string, body: Record<string, unknown>, count: TokenCount): number {
  let total = 0;
  if (Array.isArray(body.messages)) total += countMessages(body.messages, count);
  if (body.prompt !== undefined) total += countPrompt(body.prompt, count);
  if (body.input !== undefined) {
    total += endpoint === '/responses' ? countContent(body.input, count) : countPrompt(body.input, count);
  }
  if (typeof body.instructions === 'string') total += count(body.instructions);
  if (body.tools !== undefined) total += count(JSON.stringify(body.tools));
  if (body.functions !== undefined) total += count(JSON.stringify(body.functions));
  return total;
}

/** Tokens to reserve for the answer: the request's own maximum, else `fallback`; times `n`. */
export function reservedCompletionTokens(endpoint: string, body: Record<string, unknown>, fallback: number): number {
  if (endpoint === '/embeddings' || endpoint === '/moderations') return 0;
  const asked = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  const perChoice = typeof asked === 'number' && Number.isFinite(asked) && asked >= 0 ? asked : fallback;
  const n = typeof body.n === 'number' && Number.isSafeInteger(body.n) && body.n > 1 ? body.n : 1;
  return perChoice * n;
}
