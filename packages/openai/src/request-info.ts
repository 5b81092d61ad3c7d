/** What the protection needs to know about one outgoing HTTP request of the SDK. */
export interface OutgoingRequest {
  method: string;
  url: string;
  /** API path without the base URL and query, ids replaced by `:id` (`/responses/:id`). */
  endpoint: string;
  /** Parsed JSON body, when the body is JSON. */
  body: Record<string, unknown> | undefined;
  /** The body as sent, when it is a string. */
  rawBody: string | undefined;
  /** True when the body can be sent again (string or none); uploads stream once. */
  replayable: boolean;
  model: string | undefined;
  stream: boolean;
}

/** What the protection needs to know about a request the SDK sends: endpoint, model, stream, body. */
export function describeRequest(url: string, init: RequestInit, baseURL: string): OutgoingRequest {
  const method = (init.method ?? 'GET').toUpperCase();
  const raw = init.body;
  const rawBody = typeof raw === 'string' ? raw : undefined;
  let body: Record<string, unknown> | undefined;
  if (rawBody !== undefined && rawBody.startsWith('{')) {
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
  }
  return {
    method,
    url,
    endpoint: parseEndpoint(url, baseURL),
    body,
    rawBody,
    replayable: raw === undefined || raw === null || rawBody !== undefined,
    model: typeof body?.model === 'string' ? body.model : undefined,
    stream: body?.stream === true,
  };
}

/** API path without the base URL and query; ids replaced by `:id`. */
function parseEndpoint(url: string, baseURL: string): string {
  const base = baseURL.endsWith('/') ? baseURL.slice(0, -1) : baseURL;
  let path = url.startsWith(base) ? url.slice(base.length) : safePath(url);
  const query = path.indexOf('?');
  if (query >= 0) path = path.slice(0, query);
  const segments = path.split('/');
  // Segments after the collection that carry digits are ids; keep them out of metric labels.
  for (let i = 2; i < segments.length; i++) {
    if (/[\d:]/.test(segments[i] ?? '')) segments[i] = ':id';
  }
  return segments.join('/') || '/';
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** The body with another model, for a fallback. */
export function withModel(request: OutgoingRequest, model: string): OutgoingRequest {
  if (!request.body || request.model === model) return request;
  const body = { ...request.body, model };
  return { ...request, body, rawBody: JSON.stringify(body), model };
}
