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

/**
 * `params` is the object the SDK serialized into the body, when known: it saves parsing the body
 * again on every call.
 */
export function describeRequest(url: string, init: RequestInit, baseURL: string, params?: object): OutgoingRequest {
  const method = (init.method ?? 'GET').toUpperCase();
  const raw = init.body;
  const rawBody = typeof raw === 'string' ? raw : undefined;
  let body: Record<string, unknown> | undefined;
  if (rawBody !== undefined && params !== undefined) {
    body = params as Record<string, unknown>;
  } else if (rawBody !== undefined && rawBody.startsWith('{')) {
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
  }
  return {
    method,
    url,
    endpoint: endpointOf(url, baseURL),
    body,
    rawBody,
    replayable: raw === undefined || raw === null || rawBody !== undefined,
    model: typeof body?.model === 'string' ? body.model : undefined,
    stream: body?.stream === true,
  };
}

/** Endpoints of recent URLs: most calls go to a handful of URLs. Emptied when full. */
const endpoints = new Map<string, string>();
const CACHED_ENDPOINTS = 256;

/** The last lookup: consecutive calls mostly go to one URL, and comparing is cheaper than hashing. */
let last = { url: '', baseURL: '', endpoint: '' };

function endpointOf(url: string, baseURL: string): string {
  if (url === last.url && baseURL === last.baseURL) return last.endpoint;
  const endpoint = cachedEndpoint(url, baseURL);
  last = { url, baseURL, endpoint };
  return endpoint;
}

function cachedEndpoint(url: string, baseURL: string): string {
  const key = `${baseURL} ${url}`;
  let endpoint = endpoints.get(key);
  if (endpoint === undefined) {
    endpoint = parseEndpoint(url, baseURL);
    if (endpoints.size >= CACHED_ENDPOINTS) endpoints.clear();
    endpoints.set(key, endpoint);
  }
  return endpoint;
}

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

/**
 * A copy of a RequestInit's string keys, without `except`. Copied key by key: spreading the SDK's
 * init objects, themselves built from spreads, takes V8's slow path (about 2 µs, ten times this
 * loop). Symbol keys (this package's own notes on the SDK's object) are left behind.
 */
export function copyInit(init: object, except?: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  const source = init as Record<string, unknown>;
  for (const name in source) if (name !== except) copy[name] = source[name];
  return copy;
}

/** The body with another model, for a fallback. */
export function withModel(request: OutgoingRequest, model: string): OutgoingRequest {
  if (!request.body || request.model === model) return request;
  const body = { ...request.body, model };
  return { ...request, body, rawBody: JSON.stringify(body), model };
}
