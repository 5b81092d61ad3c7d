/** Token usage of one call, whichever API answered it. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;

/**
 * Reads a `usage` object: chat/completions/embeddings (`prompt_tokens`, `completion_tokens`) or
 * the Responses API (`input_tokens`, `output_tokens`).
 */
export function readUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  const prompt = count(usage.prompt_tokens) ?? count(usage.input_tokens);
  if (prompt === undefined) return undefined;
  const completion = count(usage.completion_tokens) ?? count(usage.output_tokens) ?? 0;
  return {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: count(usage.total_tokens) ?? prompt + completion,
  };
}
