import { toOpenAIClientError, type ProtectedOpenAI } from '@infra/openai';
import { DIFFICULTIES, type Difficulty, type NewChallenge } from './challenge.js';

/** Why a template was used instead of OpenAI. */
export type FallbackReason = 'not-configured' | 'circuit-open' | 'upstream-unavailable' | 'invalid-output';

export type GenerationResult =
  | { source: 'openai'; challenge: NewChallenge; model: string }
  | { source: 'template'; challenge: NewChallenge; reason: FallbackReason };

export interface GenerationRequest {
  topic: string;
  difficulty: Difficulty;
}

export interface ChallengeGeneratorOptions {
  /** The protected OpenAI client; without one every challenge comes from a template. @default undefined */
  client?: ProtectedOpenAI | undefined;
  /** Chat model to ask. @default 'gpt-4o-mini' */
  model?: string;
  /** Reports why OpenAI was not used (never with the prompt or the key). @default no report */
  onFallback?: (reason: FallbackReason, error?: unknown) => void;
}

const POINTS: Record<Difficulty, number> = { easy: 10, medium: 25, hard: 40 };

const TEMPLATES: Record<Difficulty, (topic: string) => Pick<NewChallenge, 'title' | 'description'>> = {
  easy: (topic) => ({
    title: `Warm-up: ${topic}`,
    description: `Write a function that demonstrates the core idea of ${topic} in under 20 lines, with one test.`,
  }),
  medium: (topic) => ({
    title: `Build it: ${topic}`,
    description: `Implement ${topic} as a small module with a typed API, input validation and tests for its edge cases.`,
  }),
  hard: (topic) => ({
    title: `Under load: ${topic}`,
    description: `Implement ${topic} so that it stays correct under concurrency and failure; prove it with a test that injects both.`,
  }),
};

/** A challenge from the built-in templates: always available, no network. */
export function templateChallenge(request: GenerationRequest): NewChallenge {
  return {
    ...TEMPLATES[request.difficulty](request.topic),
    difficulty: request.difficulty,
    category: categoryOf(request.topic),
    points: POINTS[request.difficulty],
  };
}

function categoryOf(topic: string): string {
  return (
    topic
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'general'
  );
}

/** Reads the model's JSON answer; undefined when it is not a usable challenge. */
export function parseGenerated(
  content: string | null | undefined,
  request: GenerationRequest,
): NewChallenge | undefined {
  if (typeof content !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { title, description } = parsed as Record<string, unknown>;
  if (typeof title !== 'string' || typeof description !== 'string') return undefined;
  const cleanTitle = title.trim().slice(0, 200);
  const cleanDescription = description.trim().slice(0, 4000);
  if (cleanTitle === '' || cleanDescription === '') return undefined;
  return {
    title: cleanTitle,
    description: cleanDescription,
    difficulty: request.difficulty,
    category: categoryOf(request.topic),
    points: POINTS[request.difficulty],
  };
}

/**
 * Asks OpenAI for a coding challenge and falls back to a template when no client is configured,
 * the model's breaker is open, OpenAI is unavailable, or its answer is unusable. Errors that are
 * the caller's or the operator's to fix (bad credentials, a refused request) are thrown.
 */
export class ChallengeGenerator {
  private readonly client: ProtectedOpenAI | undefined;
  private readonly model: string;
  private readonly onFallback: (reason: FallbackReason, error?: unknown) => void;

  constructor(options: ChallengeGeneratorOptions = {}) {
    this.client = options.client;
    this.model = options.model ?? 'gpt-4o-mini';
    this.onFallback = options.onFallback ?? (() => undefined);
  }

  async generate(request: GenerationRequest, signal?: AbortSignal): Promise<GenerationResult> {
    if (!DIFFICULTIES.includes(request.difficulty))
      throw new TypeError(`Invalid "difficulty": ${JSON.stringify(request.difficulty)}`);
    if (!this.client) return this.fallback(request, 'not-configured');
    let content: string | null | undefined;
    try {
      const completion = await this.client.chat.completions.create(
        {
          model: this.model,
          temperature: 0.7,
          response_format: { type: 'json_object' },
          messages: [
            {
              role: 'system',
              content:
                'You write short programming challenges. Answer with JSON only: {"title": string, "description": string}.',
            },
            { role: 'user', content: `Write one ${request.difficulty} challenge about: ${request.topic}` },
          ],
        },
        signal === undefined ? undefined : { signal },
      );
      content = completion.choices[0]?.message.content;
    } catch (error) {
      const coded = toOpenAIClientError(error);
      if (coded?.code === 'CIRCUIT_OPEN') return this.fallback(request, 'circuit-open', coded);
      if (coded?.isRetryable) return this.fallback(request, 'upstream-unavailable', coded);
      throw error;
    }
    const challenge = parseGenerated(content, request);
    if (!challenge) return this.fallback(request, 'invalid-output');
    return { source: 'openai', challenge, model: this.model };
  }

  private fallback(request: GenerationRequest, reason: FallbackReason, error?: unknown): GenerationResult {
    this.onFallback(reason, error);
    return { source: 'template', challenge: templateChallenge(request), reason };
  }
}
