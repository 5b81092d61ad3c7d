import { type OpenSpan, type TelemetryTracer, startSpan, tracerFor, tracingEnabled } from '@infra/core';
import type { OutgoingRequest } from './request-info.js';
import type { Usage } from './usage.js';

const tracer: TelemetryTracer = tracerFor('@infra/openai');

// `gen_ai.operation.name` of the endpoints that are GenAI operations; other calls (models, files)
// get no span of their own.
const operations: Readonly<Record<string, string>> = {
  '/chat/completions': 'chat',
  '/responses': 'chat',
  '/completions': 'text_completion',
  '/embeddings': 'embeddings',
};

/** What an answer says about itself, for the span's response attributes. */
export interface ResponseInfo {
  model?: string | undefined;
  id?: string | undefined;
  finishReasons?: readonly string[] | undefined;
  usage?: Usage | undefined;
}

function serverOf(baseURL: string): { address: string | undefined; port: number | undefined } {
  try {
    const url = new URL(baseURL);
    const port = url.port === '' ? (url.protocol === 'http:' ? 80 : 443) : Number(url.port);
    return { address: url.hostname, port };
  } catch {
    return { address: undefined, port: undefined };
  }
}

const numberIn = (body: Record<string, unknown> | undefined, key: string): number | undefined =>
  typeof body?.[key] === 'number' ? body[key] : undefined;

/**
 * Starts the GenAI CLIENT span of one call (`chat gpt-4o-mini`), following OpenTelemetry's GenAI
 * conventions; `undefined` for calls that are no GenAI operation, or when nothing records.
 */
export function startGenAiSpan(request: OutgoingRequest, baseURL: string): OpenSpan | undefined {
  const operation = operations[request.endpoint];
  if (operation === undefined || !tracingEnabled()) return undefined;
  const server = serverOf(baseURL);
  const body = request.body;
  return startSpan(tracer, request.model === undefined ? operation : `${operation} ${request.model}`, {
    kind: 'client',
    attributes: {
      'gen_ai.operation.name': operation,
      'gen_ai.provider.name': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': request.model,
      'gen_ai.request.max_tokens': numberIn(body, 'max_completion_tokens') ?? numberIn(body, 'max_tokens'),
      'gen_ai.request.temperature': numberIn(body, 'temperature'),
      'gen_ai.request.top_p': numberIn(body, 'top_p'),
      'server.address': server.address,
      'server.port': server.port,
    },
  });
}

/** Adds the response attributes: the model that answered, its id, finish reasons and token usage. */
export function recordResponse(span: OpenSpan | undefined, info: ResponseInfo): void {
  span?.span?.setAttributes({
    'gen_ai.response.model': info.model,
    'gen_ai.response.id': info.id,
    'gen_ai.response.finish_reasons': info.finishReasons,
    'gen_ai.usage.input_tokens': info.usage?.promptTokens,
    'gen_ai.usage.output_tokens': info.usage?.completionTokens,
  });
}

/** The id, model and finish reasons of a parsed answer or stream event (chat, completions, Responses API). */
export function responseInfoOf(parsed: unknown): ResponseInfo {
  if (typeof parsed !== 'object' || parsed === null) return {};
  const record = parsed as { id?: unknown; model?: unknown; choices?: unknown; response?: unknown };
  // A Responses API stream event carries the response under `response`.
  const target = typeof record.response === 'object' && record.response !== null ? record.response : record;
  const { id, model, choices } = target as typeof record;
  const reasons = Array.isArray(choices)
    ? choices.flatMap((choice) => {
        const reason = (choice as { finish_reason?: unknown } | null)?.finish_reason;
        return typeof reason === 'string' ? [reason] : [];
      })
    : [];
  return {
    id: typeof id === 'string' ? id : undefined,
    model: typeof model === 'string' ? model : undefined,
    finishReasons: reasons.length > 0 ? reasons : undefined,
  };
}
