import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local HTTP server that speaks the parts of the OpenAI API the tests use: chat completions
 * (JSON and SSE streaming), legacy completions, embeddings, the Responses API and models. Each
 * request can be scripted: an error status with `retry-after` / `retry-after-ms`, a delay, a
 * malformed body, a stream cut after N chunks, a dropped connection.
 */
export interface FakeReply {
  /** HTTP status; >= 400 answers an OpenAI-style error body. @default 200 */
  status?: number;
  /** Extra response headers, e.g. `{ 'retry-after': '1' }` or `{ 'retry-after-ms': '150' }`. */
  headers?: Record<string, string>;
  /** `error` object of an error body. @default { message: 'fake error', type: 'server_error' } */
  error?: { message?: string; type?: string; code?: string | null; param?: string | null };
  /** Waits this long (ms) before the headers. */
  delayMs?: number;
  /** Answers this raw text with status 200 and `application/json` (a malformed body). */
  rawBody?: string;
  /** Destroys the connection without answering. */
  dropConnection?: boolean;
  /** Streams: destroys the connection after this many SSE events. */
  breakAfterChunks?: number;
  /** Streams: leaves out the last event (`[DONE]`, `response.completed`) and ends cleanly. */
  omitEndMarker?: boolean;
  /** Streams: waits this long (ms) between two events. */
  chunkDelayMs?: number;
  /** Assistant text of a successful answer. @default 'Hello from the fake server.' */
  content?: string;
  /** Usage of a successful answer. @default computed from the request (4 characters a token) */
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it is not JSON (undefined when empty). */
  body: unknown;
  /** Epoch ms when the request arrived. */
  receivedAt: number;
  /** True once the client went away before the whole response was sent (an abort, a timeout). */
  closedEarly: boolean;
}

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>/v1`: the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Replies used by the next requests, one each, in order; then `handler`, then the default. */
  enqueue(...replies: FakeReply[]): void;
  /** Decides replies from the request (used when the queue is empty); return undefined for the default. */
  handler: ((request: RecordedRequest) => FakeReply | undefined) | undefined;
  /** Clears the queue, the handler and the recorded requests. */
  reset(): void;
  /** Stops the server and destroys open connections. */
  close(): Promise<void>;
}

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'gpt-3.5-turbo-instruct'];

/** Starts a fake OpenAI server on 127.0.0.1 and a free port. */
export async function startFakeOpenAIServer(): Promise<FakeOpenAIServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sequence = 0;
  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const fake: FakeOpenAIServer = {
    baseURL: '',
    requests,
    handler: undefined,
    enqueue: (...replies) => queue.push(...replies),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
      fake.handler = undefined;
    },
    close: () => Promise.resolve(),
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text.length > 0 ? text : undefined;
    try {
      if (text.length > 0) body = JSON.parse(text);
    } catch {
      // Recorded as text.
    }
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: { ...req.headers },
      body,
      receivedAt: Date.now(),
      closedEarly: false,
    };
    requests.push(request);
    res.on('close', () => {
      if (!res.writableFinished) request.closedEarly = true;
    });
    const reply = queue.shift() ?? fake.handler?.(request) ?? {};
    const requestId = `req_fake_${++sequence}`;
    if (reply.delayMs) await wait(reply.delayMs);
    if (reply.dropConnection) {
      res.socket?.destroy();
      return;
    }
    const headers = { 'x-request-id': requestId, ...reply.headers };
    const status = reply.status ?? 200;
    if (status >= 400) {
      const error = { message: 'fake error', type: 'server_error', code: null, param: null, ...reply.error };
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error }));
      return;
    }
    if (reply.rawBody !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(reply.rawBody);
      return;
    }
    const route = (request.path.split('?')[0] ?? '').replace(/^\/v1/, '');
    const params = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const answer = answerFor(request.method, route, params, reply);
    if (!answer) {
      const error = {
        message: `Unknown route ${request.method} ${route}`,
        type: 'invalid_request_error',
        code: 'unknown_url',
      };
      res.writeHead(404, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error }));
      return;
    }
    if (params.stream === true && Array.isArray(answer)) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
      let sent = 0;
      const events = reply.omitEndMarker ? answer.slice(0, -1) : answer;
      for (const event of events) {
        if (reply.breakAfterChunks !== undefined && sent >= reply.breakAfterChunks) {
          res.socket?.destroy();
          return;
        }
        if (reply.chunkDelayMs && sent > 0) await wait(reply.chunkDelayMs);
        if (res.destroyed) return;
        // Wait for each event to reach the socket, so that a scripted break happens after it.
        await new Promise<void>((resolve) => {
          res.write(event, () => {
            resolve();
          });
        });
        sent++;
      }
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(answer));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  Object.assign(fake, {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  });
  return fake;
}

const tokensOf = (value: unknown): number => Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));

/** A JSON body, or the SSE events of a stream, for a route; undefined for an unknown route. */
function answerFor(method: string, route: string, params: Record<string, unknown>, reply: FakeReply): unknown {
  const model = typeof params.model === 'string' ? params.model : 'gpt-4o-mini';
  const content = reply.content ?? 'Hello from the fake server.';
  const prompt = reply.usage?.prompt_tokens ?? tokensOf(params.messages ?? params.prompt ?? params.input);
  const completion = reply.usage?.completion_tokens ?? tokensOf(content);
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const created = Math.floor(Date.now() / 1000);
  const stream = params.stream === true;
  const words = content.split(/(?<= )/);
  const sse = (data: unknown, event?: string): string =>
    `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

  if (method === 'GET' && route === '/models') {
    return { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'fake' })) };
  }
  if (method === 'GET' && route.startsWith('/models/')) {
    return { id: decodeURIComponent(route.slice(8)), object: 'model', created, owned_by: 'fake' };
  }
  if (method !== 'POST') return undefined;
  switch (route) {
    case '/chat/completions': {
      const id = `chatcmpl-fake${created}`;
      if (!stream) {
        const message = { role: 'assistant', content, refusal: null };
        return {
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message, finish_reason: 'stop', logprobs: null }],
          usage,
        };
      }
      const chunk = (delta: unknown, finish: string | null) => ({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      });
      const includeUsage = (params.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      return [
        sse(chunk({ role: 'assistant', content: '' }, null)),
        ...words.map((word) => sse(chunk({ content: word }, null))),
        sse(chunk({}, 'stop')),
        ...(includeUsage ? [sse({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })] : []),
        'data: [DONE]\n\n',
      ];
    }
    case '/completions': {
      const id = `cmpl-fake${created}`;
      const choice = (text: string, finish: string | null) => ({
        index: 0,
        text,
        finish_reason: finish,
        logprobs: null,
      });
      if (!stream) return { id, object: 'text_completion', created, model, choices: [choice(content, 'stop')], usage };
      return [
        ...words.map((word) => sse({ id, object: 'text_completion', created, model, choices: [choice(word, null)] })),
        'data: [DONE]\n\n',
      ];
    }
    case '/embeddings': {
      const inputs = Array.isArray(params.input) ? params.input : [params.input];
      const data = inputs.map((input, index) => ({
        object: 'embedding',
        index,
        embedding: Array.from({ length: 8 }, (_, i) => Math.sin(tokensOf(input) + i)),
      }));
      return { object: 'list', data, model, usage: { prompt_tokens: prompt, total_tokens: prompt } };
    }
    case '/responses': {
      const id = `resp_fake${created}`;
      const text = { type: 'output_text', text: content, annotations: [] };
      const output = [{ type: 'message', id: `msg_${id}`, status: 'completed', role: 'assistant', content: [text] }];
      const responseUsage = { input_tokens: prompt, output_tokens: completion, total_tokens: prompt + completion };
      const done = {
        id,
        object: 'response',
        created_at: created,
        status: 'completed',
        model,
        output,
        usage: responseUsage,
      };
      if (!stream) return done;
      return [
        sse(
          {
            type: 'response.created',
            sequence_number: 0,
            response: { ...done, status: 'in_progress', output: [], usage: null },
          },
          'response.created',
        ),
        ...words.map((delta, i) =>
          sse(
            {
              type: 'response.output_text.delta',
              sequence_number: i + 1,
              item_id: `msg_${id}`,
              output_index: 0,
              content_index: 0,
              delta,
            },
            'response.output_text.delta',
          ),
        ),
        sse({ type: 'response.completed', sequence_number: words.length + 1, response: done }, 'response.completed'),
      ];
    }
    default:
      return undefined;
  }
}
