import { isOpenAIClientError, OpenAIClientError } from './errors.js';
import { abortedError, connectionError, errorFromResponse, timeoutError, type ErrorContext } from './classify.js';
import type { OutgoingRequest } from './request-info.js';
import { readUsage, type Usage } from './usage.js';

/** One HTTP exchange, buffered (JSON) or live (a stream whose body is still arriving). */
export type AttemptResult =
  | {
      kind: 'body';
      response: Response;
      usage: Usage | undefined;
      servedModel: string | undefined;
      /** The JSON body, parsed; undefined for a body passed through unread. */
      parsed?: unknown;
      /** The JSON body as text; undefined for a body passed through unread (binary, plain text). */
      text: string | undefined;
    }
  | {
      kind: 'stream';
      response: Response;
      /** Aborts the underlying fetch (idle timeout of the stream). */
      controller: AbortController;
      /** Detaches from the caller's signal; call when the stream ends. */
      release: () => void;
    };

export interface AttemptInput {
  fetch: typeof globalThis.fetch;
  request: OutgoingRequest;
  init: RequestInit;
  /** Until the full body (JSON) or the response headers (stream); 0 waits forever. */
  timeoutMs: number;
  /** The caller's signal (aborts the attempt at once). */
  signal: AbortSignal;
  context: ErrorContext;
}

/**
 * Sends one request and reads it to a coded outcome: a buffered JSON body, a live stream, or a
 * thrown `OpenAIClientError` (error status, broken connection, timeout, malformed JSON, abort).
 */
export async function sendAttempt(input: AttemptInput): Promise<AttemptResult> {
  const { request, signal, context, timeoutMs } = input;
  const controller = new AbortController();
  const onAbort = (): void => {
    controller.abort(signal.reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs > 0) {
    timer = setTimeout(() => {
      controller.abort(timeoutError(timeoutMs, context, request.stream ? 'stream start' : 'call'));
    }, timeoutMs);
    timer.unref();
  }
  const release = (): void => {
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  };
  const failure = (error: unknown): OpenAIClientError => {
    release();
    if (signal.aborted) return abortedError(signal.reason, context);
    const reason: unknown = controller.signal.reason;
    if (controller.signal.aborted && isOpenAIClientError(reason)) return reason;
    return isOpenAIClientError(error) ? error : connectionError(error, context);
  };

  let response: Response;
  try {
    const send = input.fetch;
    response = await send(request.url, attemptInit(input.init, request.rawBody, controller.signal));
  } catch (error) {
    throw failure(error);
  }

  /** The whole body, within the attempt's timeout; then the attempt's timer and listener go. */
  const readBody = async (): Promise<string> => {
    let body: string;
    try {
      body = await response.text();
    } catch (error) {
      throw failure(error);
    }
    release();
    return body;
  };

  if (!response.ok) throw errorFromResponse(response.status, await readBody(), response.headers, context);

  const contentType = response.headers.get('content-type') ?? '';
  if (request.stream && contentType.includes('text/event-stream')) {
    if (timer) clearTimeout(timer);
    return { kind: 'stream', response, controller, release };
  }
  if (!contentType.includes('json')) {
    // Binary or text bodies (speech audio, file contents) go to the caller as they are, still
    // abortable by the caller while it reads them, as with the bare SDK.
    if (timer) clearTimeout(timer);
    return { kind: 'body', response, usage: undefined, servedModel: undefined, text: undefined };
  }

  const text = await readBody();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OpenAIClientError('UPSTREAM', `OpenAI answered ${context.endpoint} with malformed JSON`, {
      isRetryable: true,
      status: response.status,
      requestId: response.headers.get('x-request-id') ?? undefined,
      model: context.model,
      endpoint: context.endpoint,
      cause: error,
    });
  }
  let usage: Usage | undefined;
  let servedModel: string | undefined;
  if (typeof parsed === 'object' && parsed !== null) {
    const record = parsed as { usage?: unknown; model?: unknown };
    usage = readUsage(record.usage);
    if (typeof record.model === 'string') servedModel = record.model;
  }
  // The body has been read: the same response answers `json()` and `text()` from what was read.
  // A new Response would cost more than the rest of the protection (see PERFORMANCE.md).
  const read = text;
  const answered = response as { json: () => Promise<unknown>; text: () => Promise<string> };
  answered.json = () => Promise.resolve(parsed);
  answered.text = () => Promise.resolve(read);
  return { kind: 'body', response, usage, servedModel, parsed, text };
}

/** The init of one attempt: the request's, with the attempt's signal (and the body as sent). */
function attemptInit(init: RequestInit, rawBody: string | undefined, signal: AbortSignal): RequestInit {
  return rawBody === undefined ? { ...init, signal } : { ...init, body: rawBody, signal };
}
