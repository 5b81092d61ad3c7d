import { OpenAIClientError, isOpenAIClientError } from './errors.js';
import { connectionError, type ErrorContext } from './classify.js';
import { redact } from './redact.js';
import { responseInfoOf, type ResponseInfo } from './telemetry.js';
import { readUsage, type Usage } from './usage.js';

export type StreamOutcome =
  | { kind: 'completed'; usage: Usage | undefined; deltas: number; info: ResponseInfo }
  | { kind: 'aborted' }
  | { kind: 'failed'; error: OpenAIClientError };

export interface StreamMonitorOptions {
  context: ErrorContext;
  /** Aborted by the caller (or `stream.controller.abort()`): the end is the caller's choice. */
  callerSignal: AbortSignal;
  /** Aborts the underlying fetch; its reason is a `TIMEOUT` error when the idle timer fires. */
  attempt: AbortController;
  /** Longest silence between two chunks before the stream counts as failed; 0 waits forever. */
  idleTimeoutMs: number;
  /** A clean end without `[DONE]` or a terminal Responses event counts as a cut stream. */
  requireEndMarker: boolean;
  /** Called exactly once, when the stream completes, fails or is abandoned. */
  onEnd: (outcome: StreamOutcome) => void;
  /** Read the answer's id, model and finish reasons from its events (for a span). @default false */
  describe?: boolean;
}

const encoder = new TextEncoder();

/**
 * Passes an SSE body through to the SDK line by line while watching it: usage (chat streams
 * with `stream_options.include_usage`, the Responses API's `response.completed`), the end marker
 * (`[DONE]` or a terminal Responses event), error events and silences. A stream that breaks, goes
 * silent or sends an error event ends with a coded error, reported once through `onEnd`.
 */
export function monitorStream(response: Response, options: StreamMonitorOptions): Response {
  const upstream = response.body;
  if (!upstream) return response;
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const { context, callerSignal, attempt, idleTimeoutMs, onEnd } = options;
  let terminal = !options.requireEndMarker;
  let buffer = '';
  let usage: Usage | undefined;
  let deltas = 0;
  const info: { id?: string; model?: string; finishReasons: string[] } = { finishReasons: [] };
  const describe = options.describe === true;
  let ended = false;
  let idle: NodeJS.Timeout | undefined;

  const finish = (outcome: StreamOutcome): void => {
    if (idle) clearTimeout(idle);
    if (ended) return;
    ended = true;
    onEnd(outcome);
  };

  /** Scans complete lines; returns the text to pass on and the error event found, if any. */
  const scan = (text: string): { out: string; failure: OpenAIClientError | undefined } => {
    buffer += text;
    const last = buffer.lastIndexOf('\n');
    if (last < 0) return { out: '', failure: undefined };
    const complete = buffer.slice(0, last + 1);
    buffer = buffer.slice(last + 1);
    let offset = 0;
    for (const line of complete.split('\n')) {
      if (line.startsWith('data:')) {
        const data = line.slice(5).trim();
        if (data === '[DONE]') terminal = true;
        else if (data.startsWith('{"error"') || data.startsWith('{"type":"error"')) {
          return { out: complete.slice(0, offset), failure: streamErrorEvent(data, context) };
        } else {
          if (data.includes('"delta"')) deltas++;
          if (/"type":"response\.(completed|failed|incomplete)"/.test(data)) terminal = true;
          if (data.includes('"usage"')) usage = readUsageFrom(data) ?? usage;
          // The first event names the answer; the last ones say why it finished.
          if (
            describe &&
            (info.id === undefined || data.includes('"finish_reason":"') || data.includes('"response.completed"'))
          )
            describeFrom(data, info);
        }
      }
      offset += line.length + 1;
    }
    return { out: complete, failure: undefined };
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (idleTimeoutMs > 0) {
        idle = setTimeout(() => {
          attempt.abort(
            new OpenAIClientError(
              'TIMEOUT',
              `OpenAI stream on ${context.endpoint} sent nothing for ${idleTimeoutMs} ms`,
              {
                isRetryable: true,
                model: context.model,
                endpoint: context.endpoint,
              },
            ),
          );
        }, idleTimeoutMs);
        idle.unref();
      }
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (idle) clearTimeout(idle);
        if (callerSignal.aborted) {
          finish({ kind: 'aborted' });
          // The SDK ends iteration quietly on an AbortError: keep that behaviour.
          controller.error(error);
          return;
        }
        const reason: unknown = attempt.signal.reason;
        const failure = isOpenAIClientError(reason, 'TIMEOUT')
          ? reason
          : connectionError(error, context, 'OpenAI stream broke');
        finish({ kind: 'failed', error: failure });
        controller.error(failure);
        return;
      }
      if (idle) clearTimeout(idle);
      if (chunk.done) {
        const { out, failure } = scan(`${decoder.decode()}\n`);
        if (out) controller.enqueue(encoder.encode(out));
        const error = failure ?? (terminal ? undefined : truncated(context));
        if (error) {
          finish({ kind: 'failed', error });
          controller.error(error);
          return;
        }
        const { finishReasons, ...named } = info;
        finish({
          kind: 'completed',
          usage,
          deltas,
          info: { ...named, finishReasons: finishReasons.length > 0 ? finishReasons : undefined },
        });
        controller.close();
        return;
      }
      const { out, failure } = scan(decoder.decode(chunk.value as Uint8Array, { stream: true }));
      if (out) controller.enqueue(encoder.encode(out));
      if (failure) {
        finish({ kind: 'failed', error: failure });
        controller.error(failure);
        void reader.cancel(failure).catch(() => undefined);
      }
    },
    cancel(reason) {
      finish({ kind: 'aborted' });
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function describeFrom(data: string, info: { id?: string; model?: string; finishReasons: string[] }): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return;
  }
  const found = responseInfoOf(parsed);
  info.id ??= found.id;
  info.model = found.model ?? info.model;
  if (found.finishReasons) info.finishReasons.push(...found.finishReasons);
}

function readUsageFrom(data: string): Usage | undefined {
  try {
    const event = JSON.parse(data) as { usage?: unknown; response?: { usage?: unknown } };
    return readUsage(event.usage ?? event.response?.usage);
  } catch {
    return undefined;
  }
}

function streamErrorEvent(data: string, context: ErrorContext): OpenAIClientError {
  let message = 'OpenAI sent an error event mid-stream';
  let upstreamCode: string | undefined;
  try {
    const event = JSON.parse(data) as {
      error?: { message?: unknown; code?: unknown };
      message?: unknown;
      code?: unknown;
    };
    const detail = event.error ?? event;
    if (typeof detail.message === 'string') message += `: ${detail.message}`;
    if (typeof detail.code === 'string') upstreamCode = detail.code;
  } catch {
    // An unparseable error event is still an error event.
  }
  return new OpenAIClientError('UPSTREAM', redact(`${message} (${context.endpoint})`, context.secret), {
    isRetryable: false,
    model: context.model,
    endpoint: context.endpoint,
    upstreamCode,
  });
}

function truncated(context: ErrorContext): OpenAIClientError {
  return new OpenAIClientError('UPSTREAM', `OpenAI stream on ${context.endpoint} ended before its end marker`, {
    isRetryable: false,
    model: context.model,
    endpoint: context.endpoint,
  });
}
